"""Fuzzing config files: generated TOML and YAML files, in the zoo's format and as
rl-baselines3-zoo entries, given to ``zoo train --config``.

What is generated: sizes up to the limits and past them; numbers (huge, hex, past the
int-string limit, inf, nan, whole floats, YAML's ``!!float``); nesting a few levels deep and
thousands deep; YAML anchors, aliases (over aliases: the billion laughs), an alias inside
itself, merge keys, tags; keys given twice; values of every type where another is expected;
``policy_kwargs`` and ``normalize`` as Python strings (literals, ``dict(...)``, torch names,
code that must never run, brackets and minus signs thousands deep).

Every command ends with exit code 0, or 2 with one short ``error:`` line and nothing written.
A file ``zoo train --dry-run`` refuses, ``zoo sweep --config`` refuses too, before it runs
anything. Three in four files are planned (``--dry-run``); the others are trained for 64 env
steps (their hyperparameters start from cheap ones, so that a valid file trains in a second).

The files are written by the two small emitters below, not by a YAML or TOML library: what is
fuzzed is text a library would not write (a key twice, aliases over aliases, raw numbers).
Examples: ``ZOO_FUZZ=ci`` (default, fixed) or ``ZOO_FUZZ=slow`` (ten times more, random), as
the other fuzz suites (:func:`support.checks.fuzz`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from support.checks import assert_one_line_error, fuzz, snapshot
from typer.testing import CliRunner

from zoo.cli import app
from zoo.limits import MAX_CONFIG_BYTES, MAX_SEED, MAX_WHOLE

runner = CliRunner()
#: A refusal is one line; however long a value in the file, the line stays short.
MAX_LINE = 1000


# -- what the emitters write -----------------------------------------------------------------------
@dataclass(frozen=True)
class Raw:
    """Text written as it is: ``0xfff...``, ``.inf``, ``!!float 1e5``, ``*a``."""

    text: str


@dataclass(frozen=True)
class Pairs:
    """A table as a list of (key, value), so that a key may be given twice."""

    items: tuple


@dataclass(frozen=True)
class Anchor:
    name: str
    value: Any


def yaml_value(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Anchor):
        return f"&{value.name} {yaml_value(value.value)}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return ".nan" if math.isnan(value) else {math.inf: ".inf", -math.inf: "-.inf"}.get(value, repr(value))
    if isinstance(value, (int, str)):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    items = value.items if isinstance(value, Pairs) else tuple(value.items())
    return "{" + ", ".join(f"{yaml_value(k)}: {yaml_value(v)}" for k, v in items) + "}"


def yaml_document(table: Pairs) -> str:
    return "".join(f"{yaml_value(k)}: {yaml_value(v)}\n" for k, v in table.items)


def toml_value(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Anchor):
        return toml_value(value.value)
    if value is None:
        return "null"  # TOML has none: a syntax error, which must be one line too
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else {math.inf: "inf", -math.inf: "-inf"}.get(value, repr(value))
    if isinstance(value, (int, str)):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    items = value.items if isinstance(value, Pairs) else tuple(value.items())
    return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in items) + " }"


def toml_document(table: Pairs) -> str:
    """Plain keys first, then each table as a ``[section]``: TOML's order."""
    plain = [(k, v) for k, v in table.items if not isinstance(v, (Pairs, dict))]
    sections = [(k, v) for k, v in table.items if isinstance(v, (Pairs, dict))]
    text = "".join(f"{json.dumps(str(k))} = {toml_value(v)}\n" for k, v in plain)
    for key, section in sections:
        items = section.items if isinstance(section, Pairs) else tuple(section.items())
        text += f"[{json.dumps(str(key))}]\n" + "".join(f"{json.dumps(str(k))} = {toml_value(v)}\n" for k, v in items)
    return text


# -- what is generated -------------------------------------------------------------------------------
def mostly(valid: st.SearchStrategy, invalid: st.SearchStrategy, odds: int = 6) -> st.SearchStrategy:
    """``valid`` in about ``odds - 1`` draws of ``odds``, else ``invalid``."""
    return st.integers(0, odds - 1).flatmap(lambda i: invalid if i == odds - 1 else valid)


def rarely(draw: Any, odds: int = 10) -> bool:
    """True in about one draw of ``odds`` (hypothesis favours small numbers: 0 is the common case)."""
    return draw(st.integers(0, odds - 1)) == odds - 1


def nested(levels: int) -> Raw:
    return Raw("[" * levels + "1" + "]" * levels)


def alias_bomb(levels: int, width: int) -> Raw:
    """Anchors of ``width`` aliases each, ``levels`` deep: ``width ** levels`` values once expanded."""
    rows = ["&b0 [" + ",".join(['"lol"'] * width) + "]"]
    rows += [f"&b{n} [" + ",".join([f"*b{n - 1}"] * width) + "]" for n in range(1, levels)]
    return Raw("[" + ", ".join(rows) + "]")


# Digit counts around the limits: 64 bits (19), the shortest shown whole (30), Python's int-string limit (4300).
DIGITS = st.sampled_from([1, 19, 20, 30, 300, 4300, 4301, 6000])
numbers = st.one_of(
    st.integers(-5, 100), st.sampled_from([0, -1, MAX_SEED, MAX_SEED + 1, 2**32, MAX_WHOLE, MAX_WHOLE + 1, 10**12,
                                           10**12 + 1, 2**64]),
    st.floats(), st.sampled_from([math.inf, -math.inf, math.nan, 1e300, 5e-324, -0.0, 1e5, 0.5]),
    DIGITS.map(lambda n: Raw("9" * n)), DIGITS.map(lambda n: Raw("-" + "1" * n)),
    DIGITS.map(lambda n: Raw("0x" + "f" * n)), DIGITS.map(lambda n: Raw("0o" + "7" * n)),
    st.sampled_from([Raw(t) for t in ("1_000", "+5", "0b101", "1:30", ".inf", "-.inf", ".nan", "nan", "inf",
                                      "1e400", "!!float 1e5", "!!float abc", "!!int '0x10'", "0x_1", "0012",
                                      "1979-05-27", "2001-12-14t21:59:43.10-05:00", "~")]),
)
JUNK_TEXT = ["", "[/x]", "[bold red]x", "ö日本", "\u202eevil", "new\nline", "tab\there", "lin_", "lin_abc",
             "lin_1e300", "lin_-1", "lin_nan", "lin_inf", "auto", "auto_-1", "none", "null", "64,64", "[64,64]"]
strings = st.one_of(st.sampled_from(JUNK_TEXT), st.text(max_size=12),
                    st.sampled_from([100, 5_000, 60_000]).map(lambda n: "x" * n))
tags = st.sampled_from([Raw(t) for t in (
    "!!python/object/apply:os.system ['echo hi']", "!!python/name:os.system", "!!binary aGVsbG8=",
    "!!set {a, b}", "!!omap [{a: 1}]", "!!str 5", "!!null ''", "!!timestamp 2001-12-14", "!x 1", "*missing")])
scalars = st.one_of(numbers, strings, st.booleans(), st.none(), tags)
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.lists(st.tuples(st.sampled_from(["a", "net_arch", "steps", "x"]) | strings,
                                                  children), max_size=3).map(lambda kv: Pairs(tuple(kv)))),
    max_leaves=6)
# Past the limits: thousands deep, just past the depth limit, aliases expanding far past the count
# (up to the 3.5 billion values of the billion laughs), an alias inside itself.
extremes = st.one_of(
    st.sampled_from([30, 31, 33, 40, 1000, 6000]).map(nested),
    st.builds(alias_bomb, st.sampled_from([3, 6, 7, 8, 10]), st.sampled_from([2, 9])),
    st.sampled_from([Raw("&self [1, *self]"), Raw("&m {a: 1, b: *m}")]),
)
odd_values = st.one_of(numbers, strings, tags, values, extremes)
#: Where a number is expected, what a careless or hostile file puts there instead.
ODD_NUMBERS = [math.inf, -math.inf, math.nan, 1e300, -1, 0, 0.5, 1.5, 2**63, True, None, "abc", "", [1], Pairs(()),
               Raw("9" * 500), Raw("0x" + "f" * 5000), Raw("9" * 5000), Raw(".inf"), Raw(".nan"), Raw("!!float 1e15")]


def odd(*targeted: Any) -> st.SearchStrategy:
    """An odd value for a key: half of the time one aimed at what the key takes, else anything odd."""
    return st.one_of(st.sampled_from(targeted or ODD_NUMBERS), odd_values)

# Hyperparameters that keep a run cheap (a valid file trains 64 steps in about a second), and their keys.
CHEAP = {
    "reinforce": {"n_envs": 2, "net_arch": [8]},
    "sb3-ppo": {"n_steps": 8, "batch_size": 8, "n_epochs": 1, "iteration_steps": 64, "n_envs": 1, "net_arch": [8]},
    "sb3-dqn": {"buffer_size": 256, "learning_starts": 16, "batch_size": 8, "train_freq": 1, "gradient_steps": 1,
                "iteration_steps": 64, "target_update_interval": 16, "net_arch": [8]},
}
VALID = {"gamma": [0.9, 0.99, 1, 0], "learning_rate": [0.01, 1e-3, "lin_0.001", "lin_7e-4"],
         "batch_steps": [0, 32], "n_envs": [1, 2], "net_arch": [[8], [8, 8], "8", "8,8"],
         "activation": ["relu", "tanh"], "ent_coef": [0.0, 0.01], "n_steps": [8, 16], "batch_size": [8],
         "clip_range": [0.2, "lin_0.2"], "exploration_final_eps": [0.05], "max_grad_norm": [0.5, 10],
         "train_freq": [1, [1, "step"]], "ortho_init": [True, False], "log_std_init": [-2, 0.0],
         "normalize_advantage": [True, False]}
hyperparameter = mostly(st.sampled_from(sorted(VALID)).flatmap(lambda k: st.tuples(st.just(k),
                                                                                   st.sampled_from(VALID[k]))),
                        st.tuples(st.sampled_from(sorted(VALID)) | strings,
                                  odd(*ODD_NUMBERS, "lin_1e300", "lin_nan", "lin_inf", "lin_-1", "lin_0", "lin_")))


@st.composite
def hyperparameters(draw, agent: str) -> Pairs:
    table = dict(CHEAP[agent])
    table.update(draw(st.lists(hyperparameter, max_size=2)))
    items = list(table.items())
    if rarely(draw):  # a key given twice (TOML refuses it, and so does the zoo's YAML loader)
        items.append(items[0])
    return Pairs(tuple(items))


@st.composite
def zoo_format(draw, agent: str) -> Pairs:
    """The zoo's own format: each key present half of the time, mostly valid."""
    table = {
        "agent": mostly(st.just(agent), st.sampled_from(["sb3-a2c", "nope"]) | odd_values),
        "env": mostly(st.sampled_from(["cartpole", "CartPole-v1"]), st.sampled_from(["pixelcopter"]) | odd_values),
        "seed": mostly(st.integers(0, MAX_SEED), odd(*ODD_NUMBERS, MAX_SEED + 1)),
        "budget": mostly(st.sampled_from([{"steps": 64}, {"episodes": 2}, {"steps": 1e2}]),
                         st.one_of(st.lists(st.tuples(st.sampled_from(["steps", "episodes", "hours"]), odd()),
                                            min_size=1, max_size=2).map(lambda kv: Pairs(tuple(kv))), odd())),
        "hyperparameters": mostly(hyperparameters(agent), odd_values, odds=8),
    }
    items = [(key, draw(strategy)) for key, strategy in table.items() if draw(st.booleans())]
    if rarely(draw):
        items.append((draw(st.sampled_from(["agent", "seed", "extra", "hyperparams"]) | strings), draw(values)))
    return Pairs(tuple(items))


def python_text(leaves: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``policy_kwargs`` / ``normalize`` strings: Python-looking text, valid or not, safe or not."""
    keys = st.sampled_from(["net_arch", "activation_fn", "log_std_init", "ortho_init", "pi", "vf", "qf",
                            "norm_obs", "norm_reward", "squash_output", "optimizer_class"])
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.lists(st.tuples(keys, inner), max_size=3).map(
                lambda kv: "dict(" + ", ".join(f"{k}={v}" for k, v in kv) + ")"),
            st.lists(st.tuples(keys, inner), max_size=3).map(
                lambda kv: "{" + ", ".join(f"{k!r}: {v}" for k, v in kv) + "}"),
            inner.map(lambda x: "-" + x)),
        max_leaves=6)


PY_LEAVES = ["64", "256", "-2", "0.5", "True", "False", "None", "'x'", "nn.ReLU", "nn.Tanh", "th.nn.ELU",
             "torch.nn.SiLU", "nn.Softmax", "nn.Module", "__import__('os').system('echo hi')", "open('/etc/passwd')",
             "[x for x in range(3)]", "lambda: 0", "1e400", "0x" + "f" * 300, "9" * 5000, "os.system", "dict(**{})",
             "*[]", "", "(", "\\x00", "'\\x00'"]
py_leaves = st.sampled_from(PY_LEAVES)
python_strings = st.one_of(
    python_text(py_leaves),
    st.integers(20, 40).map(lambda n: "[" * n + "64" + "]" * n),
    st.integers(150, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(500, 30_000).map(lambda n: "dict(log_std_init=" + "-" * n + "1)"),
)
#: rl-zoo keys the zoo refuses whatever their value (the run would not be the one the file describes).
RARE = ("noise_type", "env_wrapper")
RL_ZOO_SPECIAL = {  # the keys rl-zoo reads besides the agent's hyperparameters: a third of their values are odd
    "n_timesteps": mostly(st.sampled_from([1e5, 50000, Raw("!!float 1e5"), Raw("!!float 2e6")]), odd(), 3),
    "policy": mostly(st.just("MlpPolicy"), st.sampled_from(["CnnPolicy"]) | odd_values, 3),
    "policy_kwargs": mostly(st.sampled_from(["dict(net_arch=[8], activation_fn=nn.ReLU)", "dict(ortho_init=False)",
                                             "dict(net_arch=dict(pi=[8], vf=[8]))"]),
                            st.one_of(python_strings, odd_values), 3),
    "normalize": mostly(st.sampled_from([True, False, "{'norm_obs': True, 'norm_reward': False}"]),
                        st.one_of(python_strings, odd_values), 3),
    "exploration_fraction": mostly(st.sampled_from([0.1, 0, 1]), odd(*ODD_NUMBERS, -0.1, 1e-300), 3),
    "noise_type": st.sampled_from(["normal", "ornstein-uhlenbeck"]) | odd_values,
    "env_wrapper": st.sampled_from(["stable_baselines3.common.atari_wrappers.AtariWrapper"]) | odd_values,
}


@st.composite
def rl_zoo_format(draw, agent: str) -> Pairs:
    """An rl-baselines3-zoo file: the CartPole-v1 entry (mostly), others around it, each rl-zoo key
    present some of the time, anchors and merge keys some of the time."""
    entry = list(draw(hyperparameters(agent)).items)
    entry += [(key, draw(strategy)) for key, strategy in RL_ZOO_SPECIAL.items()
              if (rarely(draw) if key in RARE else not rarely(draw) if key == "n_timesteps" else draw(st.booleans()))]
    name = draw(mostly(st.sampled_from(["CartPole-v1", "cartpole"]), st.sampled_from(["Pendulum-v1", "atari"])
                       | strings, odds=8))
    shape = draw(st.integers(0, 7))  # (hypothesis tries 0 first: the plain entry)
    if shape == 5:  # the entry merged from another's anchor, and overriding it
        return Pairs((("Acrobot-v1", Anchor("defaults", Pairs(tuple(entry)))),
                      (name, Pairs(((Raw("<<"), Raw("*defaults")), *entry[:1])))))
    if shape == 6:  # the entry given twice
        return Pairs(((name, Pairs(tuple(entry))), (name, Pairs(tuple(entry[:2])))))
    if shape == 7:  # a value that is not a table beside the entry: not an rl-zoo file
        return Pairs(((name, Pairs(tuple(entry))), ("n_timesteps", draw(odd_values))))
    return Pairs(((name, Pairs(tuple(entry))),))


@st.composite
def config_files(draw, rl_zoo: bool) -> tuple[str, str, str, bool]:
    """``(agent, file name, text, dry_run)``: a file in the zoo's format (TOML or YAML), or an
    rl-baselines3-zoo file (YAML, as rl-zoo writes them, for an SB3 agent)."""
    agent = draw(st.sampled_from(["sb3-ppo", "sb3-dqn"] if rl_zoo else sorted(CHEAP)))
    table = draw(rl_zoo_format(agent) if rl_zoo else zoo_format(agent))
    suffix = draw(st.sampled_from([".yml", ".yml", ".yml", ".toml"] if rl_zoo else [".yaml", ".toml"]))
    text = toml_document(table) if suffix == ".toml" else yaml_document(table)
    if rarely(draw):  # padded to just under or just over the size limit
        text += "#" * max(0, MAX_CONFIG_BYTES - len(text.encode()) + draw(st.integers(-2, 2))) + "\n"
    return agent, "run" + suffix, text, draw(st.integers(0, 3)) < 3


class Tally:
    """How the fuzzed commands ended, for the report at the end (-s shows it)."""

    seen: dict[str, int] = {}

    @classmethod
    def add(cls, outcome: str) -> None:
        cls.seen[outcome] = cls.seen.get(outcome, 0) + 1


def check_outcome(result: Any, folder: Path, before: dict[str, bytes], context: str) -> None:
    """Exit 0, or exit 2 with one short line and nothing written; never anything else."""
    assert result.exit_code in (0, 2), f"{context}\nexit {result.exit_code}: {result.output[-3000:]}\n" \
                                       f"{result.exception!r}"
    assert "Traceback" not in result.output, context
    if result.exit_code == 2:
        line = assert_one_line_error(result)
        assert len(line) <= MAX_LINE, f"{context}\n{line[:2000]}"
        assert snapshot(folder) == before, context


@fuzz(60)
@given(case=config_files(rl_zoo=False))
def test_fuzz_zoo_config_files(case):
    check_config_file(*case)


@fuzz(60)
@given(case=config_files(rl_zoo=True))
def test_fuzz_rl_zoo_files(case):
    check_config_file(*case)


def check_config_file(agent: str, name: str, text: str, dry_run: bool) -> None:
    folder = Path(tempfile.mkdtemp())
    (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    before = snapshot(folder)
    context = f"{agent} --config {name} ({'--dry-run' if dry_run else 'trained'}):\n{text[:3000]}"
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        args = ["train", agent, "cartpole", "--config", name]
        started = time.perf_counter()
        result = runner.invoke(app, args + (["--dry-run"] if dry_run else ["--steps", "64", "--out", "run"]))
        if os.environ.get("ZOO_FUZZ_SHOW"):  # to see what is generated: ZOO_FUZZ_SHOW=1 pytest -s
            print(f"[{agent} {name} {'dry-run' if dry_run else 'train'}] {text[:150]!r} -> exit {result.exit_code} "
                  f"in {time.perf_counter() - started:.2f} s {result.stderr.strip()[:150]}")
        check_outcome(result, folder, before, context)
        Tally.add(f"train {'--dry-run ' if dry_run else ''}exit {result.exit_code}")
        if dry_run and result.exit_code == 2:
            sweep = runner.invoke(app, ["sweep", "--agents", agent, "--envs", "cartpole", "--config", name,
                                        "--seeds", "0", "--train-steps", "64", "--eval-episodes", "1", "--out", "sw"])
            check_outcome(sweep, folder, before, "zoo sweep, " + context)
            assert sweep.exit_code == 2, f"zoo train refused the file, zoo sweep did not: {context}"
            Tally.add("sweep exit 2")
    finally:
        os.chdir(cwd)
        shutil.rmtree(folder, ignore_errors=True)


def test_zz_fuzz_config_tally():
    """Prints how the fuzzed commands ended (run with -s to see it)."""
    for outcome, count in sorted(Tally.seen.items()):
        print(f"fuzz config files: {outcome}: {count}")
