"""Fuzzing the command line: every ``zoo`` command driven with generated arguments.

Names with rich markup and unicode, huge and negative numbers, NaN and inf, paths to files,
folders, places under a file, missing and unwritable places. Every run must end with exit
code 0 or 2, never a traceback; exit 2 is exactly one ``error:`` line on stderr, and then
nothing was written: the sandbox folder (and the Hugging Face cache, and the Hub) are as they
were before.

Commands run in this process through :func:`zoo.cli.run`, exactly what the ``zoo``
executable runs (about 10 ms each, against a second for a subprocess); a few real
subprocesses at the end prove the same for ``zoo`` itself. Valid runs are kept cheap: budgets
are capped (``--steps`` up to 600), and sweeps run their runs in this process instead of a
process pool or Ray (the backends have tests of their own).

Examples per test: ``ZOO_FUZZ=ci`` (the default; fixed and derandomized, so CI is
repeatable and bounded) or ``ZOO_FUZZ=slow`` (ten times more, random: for local runs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.checks import fuzz, invoke_zoo

from zoo import checkpoint as ckpt
from zoo.limits import MAX_SEED

# -- what is generated ---------------------------------------------------------------------------------
MARKUP = ["[/x]", "[bold red]cartpol", "[/]", "[link=file:///etc/passwd]x[/link]", "\\[x]", "[red"]
UNICODE = ["ö日本", "\u202eevil", "a\u0301", "𝔷𝔬𝔬", "tab\there", "new\nline", "-x", "--", " ", "", "a" * 300]
# The first choice of each list is what hypothesis tries first and shrinks to: an invalid one.
AGENTS = ["reinforce", "reinforce-baseline", "hardcoded", "sb3-ppo", "sb3-a2c", "sb3-dqn", "sb3-sac"]
BAD_AGENTS = ["hub:[/x]/y", "REINFORCE", "reinforc"]
ENVS = ["cartpole", "CartPole-v1", "mountaincar-continuous", "pixelcopter", "Pixelcopter-PLE-v0"]
BAD_ENVS = ["cartpol", "zoo/[/x]"]
# Places, relative to the sandbox; RUN and CKPT become a trained run folder and its checkpoint.
PLACES = ["[/x].gif", "afile", "adir", "full", "RUN", "CKPT", "afile/x", "afile/x.gif", "missing/a/b",
          "missing/x.mp4", "/proc/zoo-fuzz/x", "/proc/zoo-fuzz/x.gif", "new", "new.gif", "new.mp4", "dir.gif",
          "ö/日本.gif", ".", "", "x.txt", "full/f.gif"]
KEYS = ["[/x]", "lr", "learning_rate", "gamma", "hidden", "net_arch", "batch_steps", "activation", "variant", "n_envs",
        "buffer_size", "ent_coef", "net_arch", "init_log_std", "iteration_steps", ""]

text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12)
junk = st.sampled_from(MARKUP + UNICODE + ["nan", "inf", "-inf", "1e309", "1.5", "0x10", "1_000", "٣", "-0",
                                           "abc"]) | text


def mostly(valid: st.SearchStrategy, invalid: st.SearchStrategy, odds: int = 6) -> st.SearchStrategy:
    """``valid`` in about ``odds - 1`` draws of ``odds``, else ``invalid``: a command has several
    arguments, and each wrong one alone ends it at once. (Hypothesis favours 0, so 0 is valid.)"""
    return st.integers(0, odds - 1).flatmap(lambda i: invalid if i == odds - 1 else valid)


def names(valid: list[str], invalid: list[str] = ()) -> st.SearchStrategy[str]:
    return mostly(st.sampled_from(valid), st.sampled_from([*invalid, *MARKUP, *UNICODE]) | junk)


def counts(valid_max: int) -> st.SearchStrategy[str]:
    """A count: a cheap valid one, or zero, negative, huge, not a number."""
    return mostly(st.integers(1, valid_max).map(str),
                  st.one_of(st.integers(-(2**70), 0).map(str), st.integers(10**12 + 1, 2**80).map(str), junk))


seeds = mostly(st.one_of(st.integers(0, 2**16), st.sampled_from([0, MAX_SEED])).map(str),
               st.one_of(st.integers(-(2**70), -1).map(str), st.integers(MAX_SEED + 1, 2**80).map(str), junk))
places = mostly(st.sampled_from(PLACES), junk, odds=6)
# Places that fit the option, most of the time.
checkpoints = mostly(st.sampled_from(["RUN", "CKPT"]), places, odds=3)
videos = mostly(st.sampled_from(["new.gif", "new.mp4", "sub/new.gif", "ö/[/x].gif", "full/f.gif"]), places, odds=3)
run_dirs = mostly(st.sampled_from(["new", "adir", "deep/er/run", "ö/[bold]run"]), places, odds=3)
values = st.one_of(junk, st.integers(-(2**70), 2**70).map(str), st.floats().map(repr),
                   st.sampled_from(["0.01", "64,64", "8", "relu", "auto", "lean", "none", "[64,64],[32]"]))
VALID_SETTINGS = ["learning_rate=0.02", "net_arch=8", "gamma=0.9", "activation=relu", "n_envs=2"]
settings_ = st.lists(mostly(st.sampled_from(VALID_SETTINGS),
                            st.tuples(st.sampled_from(KEYS) | junk, values).map(lambda kv: f"{kv[0]}={kv[1]}") | junk,
                            odds=2), max_size=2)


def options(rare: tuple[str, ...] = (), **table: st.SearchStrategy) -> st.SearchStrategy[list[str]]:
    """``--flag value`` options (a ``None`` value: a flag alone), each present half of the time
    (``rare`` ones an eighth), in any order."""
    def one(flag: str, strategy: st.SearchStrategy) -> st.SearchStrategy[list[str]]:
        words = strategy.map(lambda value: [f"--{flag.replace('_', '-')}", *([] if value is None else [value])])
        return st.integers(0, 7 if flag in rare else 1).flatmap(lambda i: words if i == 1 else st.just([]))

    return st.tuples(*(one(flag, strategy) for flag, strategy in table.items())).flatmap(
        lambda parts: st.permutations(list(parts))).map(lambda parts: [word for part in parts for word in part])


def sets(pairs: list[str]) -> list[str]:
    return [word for pair in pairs for word in ("--set", pair)]


def command(name: str, positional: st.SearchStrategy, opts: st.SearchStrategy,
            required: st.SearchStrategy | None = None) -> st.SearchStrategy[list[str]]:
    return st.tuples(positional, opts, required if required is not None else st.just([])).map(
        lambda parts: [name, *parts[0], *parts[1], *parts[2]])


budget = st.one_of(st.tuples(st.just("--steps"), counts(600)), st.tuples(st.just("--episodes"), counts(3))).map(list)
train = st.one_of(
    command("train", mostly(st.tuples(names(AGENTS, BAD_AGENTS), names(ENVS, BAD_ENVS)).map(list),
                            st.lists(names(AGENTS, BAD_AGENTS), max_size=1)),
            st.tuples(options(seed=seeds, out=run_dirs, max_steps=counts(50), checkpoint_every=mostly(counts(5), junk),
                              keep=counts(3)), settings_.map(sets)).map(lambda o: o[0] + o[1]), budget),
    command("train", st.tuples(st.just("--resume"), checkpoints).map(list),
            options(rare=("seed",), checkpoint_every=counts(5), keep=counts(3), seed=seeds), budget),
)
evaluate = command("eval", st.tuples(names(AGENTS, BAD_AGENTS), names(ENVS, BAD_ENVS)).map(list),
                   options(rare=("revision", "trust_remote_code"), checkpoint=checkpoints, episodes=counts(3),
                           seed=seeds, stochastic=st.none(), json=st.none(), revision=junk,
                           trust_remote_code=st.none()),
                   st.tuples(st.just("--max-steps"), counts(30)).map(list))
record = command("record", st.tuples(names(AGENTS, BAD_AGENTS), names(ENVS, BAD_ENVS)).map(list),
                 options(checkpoint=checkpoints, seed=seeds),
                 st.tuples(st.just("--out"), videos, st.just("--max-steps"), counts(8)).map(list))
check = command("check", st.lists(names(ENVS, BAD_ENVS), max_size=1), options(json=st.none()))
listing = st.sampled_from([["list"], ["list", "--json"], ["plugins"], ["plugins", "--json"], ["pretrained"],
                           ["pretrained", "--json"], ["--help"], ["train", "--help"], [], ["nope"], ["list", "--x"]])
bench = command("bench", st.just([]), options(quick=st.none(), out=places, suite=places))
build = command("build-pretrained", st.tuples(names(AGENTS, BAD_AGENTS), names(ENVS, BAD_ENVS)).map(list),
                options(seed=seeds),
                st.tuples(st.just("--out"), run_dirs, st.just("--steps"), counts(300)).map(list))
sweep = command("sweep", st.just([]),
                options(rare=("address",), seeds=mostly(st.sampled_from(["0", "0-1", "3,5", "2,2"]), junk),
                        set=mostly(st.sampled_from(["learning_rate=0.01,0.02", "net_arch=[8],[8,8]",
                                                    "activation=relu"]), junk),
                        backend=mostly(st.sampled_from(["local", "ray"]), junk), workers=counts(2),
                        out=run_dirs, address=junk),
                st.tuples(st.just("--agents"),
                          names(["reinforce", "reinforce-baseline", "reinforce,reinforce-baseline"],
                                ["hardcoded", "sb3-dqn,", ","]),
                          st.just("--envs"), names(["cartpole", "cartpole,CartPole-v1", "mountaincar-continuous"]),
                          st.just("--train-steps"), counts(200), st.just("--eval-episodes"), counts(2)).map(list))
REPO_IDS = ["[/x]/y", "zoo-tester/fuzz-missing", "a/b/c", "org/" + "x" * 100,
            "zoo-tester/[bold]x", "zoo-tester/NEW", "", "zoo-tester/fuzz-model@main"]
repo_ids = names(["zoo-tester/fuzz-model", "zoo-tester/NEW"], REPO_IDS)
hub_commands = st.one_of(
    command("pull", st.tuples(repo_ids).map(list), options(revision=mostly(st.just("main"), junk))),
    command("eval", st.just([]), options(revision=mostly(st.just("main"), junk), episodes=counts(2), seed=seeds,
                                         trust_remote_code=st.none()),
            st.tuples(st.just("--from-hub"), repo_ids, st.just("--max-steps"), counts(20)).map(list)),
    command("push", st.tuples(checkpoints).map(list),
            options(rare=("private",), revision=mostly(st.just("fuzz-branch"), junk), commit_message=junk),
            st.tuples(st.just("--repo-id"), repo_ids, st.just("--no-video"), st.just("--eval-episodes"),
                      counts(2)).map(list)),
    command("push-pretrained", st.just([]), options(private=st.none()),
            st.tuples(st.just("--org"), names(["zoo-tester"], ["a/b"]), st.just("--dry-run")).map(list)),
)


# -- the sandbox -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    from zoo.training.session import train as train_run

    out = tmp_path_factory.mktemp("fuzz") / "run"
    train_run("reinforce", "cartpole", seed=0, steps=300, out=out, overrides={"n_envs": 2, "net_arch": "8"},
              argv=["zoo"], checkpoint_every=0)
    return out


def make_sandbox(root: Path, trained: Path) -> Path:
    box = Path(tempfile.mkdtemp(dir=root))
    (box / "afile").write_text("not a folder")
    (box / "adir").mkdir()
    (box / "full").mkdir()
    (box / "full" / "f.gif").write_text("someone's file")
    (box / "dir.gif").mkdir()
    shutil.copytree(trained, box / "RUN")
    return box


def resolve(args: list[str], box: Path) -> list[str]:
    newest = ckpt.find_checkpoint(box / "RUN")
    return [str(newest) if a == "CKPT" else str(box / "RUN") if a == "RUN" else a for a in args]


def snapshot(*roots: Path) -> dict[str, bytes]:
    found = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            found[str(p)] = p.read_bytes() if p.is_file() and not p.is_symlink() else b"/"
    return found


class Tally:
    """What a fuzz test saw, for the report at the end of the session (-s shows it)."""

    seen: dict[str, dict[int, int]] = {}

    @classmethod
    def add(cls, test: str, code: int) -> None:
        cls.seen.setdefault(test, {}).setdefault(code, 0)
        cls.seen[test][code] += 1


def check_one(args: list[str], root: Path, trained: Path, test: str, watched: tuple[Path, ...] = (),
              hub=None) -> None:
    box = make_sandbox(root, trained)
    args = resolve(args, box)
    before = snapshot(box, *watched)
    heads = _hub_heads(hub, args)
    started = time.perf_counter()
    code, stdout, stderr = invoke_zoo(args, box)
    Tally.add(test, code)
    if os.environ.get("ZOO_FUZZ_SHOW"):  # to see what is generated: ZOO_FUZZ_SHOW=1 pytest -s
        last = (stderr.strip().splitlines() or [""])[-1][:100]
        print(f"[{test}] exit {code} in {time.perf_counter() - started:.1f} s: zoo {' '.join(args)[:150]!r} -> {last}")
    context = f"zoo {args!r}\nexit {code}\nstdout: {stdout[-2000:]}\nstderr: {stderr[-2000:]}"
    assert "Traceback" not in stdout + stderr, context
    assert code in (0, 2), context
    if code == 2:
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), context
        assert snapshot(box, *watched) == before, context
        assert _hub_heads(hub, args) == heads, context
    shutil.rmtree(box, ignore_errors=True)


def _hub_heads(hub, args: list[str]) -> dict[str, str | None]:
    """The head of every Hub repo an argument names (None: no such repo)."""
    if hub is None:
        return {}
    heads = {}
    for arg in args:
        if arg.count("/") == 1 and not arg.startswith("/") and not Path(arg).exists():
            heads[arg] = hub.head(arg) if hub.repo_exists(arg) else None
    return heads


@pytest.fixture
def cheap_sb3(monkeypatch):
    """SB3 agents' per-env defaults made tiny (a SAC iteration is 1,000 updates otherwise): what
    is fuzzed is the command line, and ``--set`` still overrides these."""
    from dataclasses import fields

    from zoo.agents.sb3 import SB3Agent

    tiny = {"iteration_steps": 64, "n_steps": 8, "batch_size": 8, "n_epochs": 1, "gradient_steps": 1,
            "train_freq": 1, "learning_starts": 16, "buffer_size": 256, "net_arch": (8,)}
    real = SB3Agent.env_defaults.__func__

    def env_defaults(cls, env):
        names = {f.name for f in fields(cls.Config)}
        return {**real(cls, env), **{k: v for k, v in tiny.items() if k in names}}

    monkeypatch.setattr(SB3Agent, "env_defaults", classmethod(env_defaults))


# -- the tests --------------------------------------------------------------------------------------------
@fuzz(40)
@given(args=train)
def test_fuzz_train(args, tmp_path, trained, cheap_sb3):
    check_one(args, tmp_path, trained, "train")


@fuzz(40)
@given(args=st.one_of(evaluate, record))
def test_fuzz_eval_and_record(args, tmp_path, trained, cheap_sb3):
    check_one(args, tmp_path, trained, "eval/record")


@fuzz(30)
@given(args=st.one_of(check, listing, bench, build))
def test_fuzz_list_plugins_check_pretrained_bench_build(args, tmp_path, trained, cheap_sb3):
    check_one(args, tmp_path, trained, "list/plugins/check/pretrained/bench/build")


@fuzz(25)
@given(args=sweep)
def test_fuzz_sweep(args, tmp_path, trained, jobs_in_this_process):
    check_one(args, tmp_path, trained, "sweep")


@pytest.fixture
def fuzz_hub(hub, hf_home, trained):
    newest = ckpt.find_checkpoint(trained)
    if not hub.repo_exists("zoo-tester/fuzz-model"):
        hub.seed_repo("zoo-tester/fuzz-model", {name: (newest / name).read_bytes()
                                                for name in (ckpt.META_FILE, ckpt.WEIGHTS_FILE)})
    return hub


@fuzz(30)
@given(args=hub_commands)
def test_fuzz_push_pull_and_eval_from_the_hub(args, tmp_path, trained, fuzz_hub, hf_home):
    check_one(args, tmp_path, trained, "hub", watched=(hf_home,), hub=fuzz_hub)


# A few real processes: what the fuzzing above found in-process holds for the executable.
REAL = [
    (["eval", "hardcoded", "[/x]"], "'[/x]'"),
    (["train", "reinforce", "cartpole", "--seed", str(2**64), "--out", "run"], "--seed"),
    (["record", "hardcoded", "cartpole", "--out", "afile/x.gif"], "is a file"),
    (["eval", "hardcoded", "cartpole", "--episodes", "99999999999999999999999"], "--episodes"),
]


@pytest.mark.parametrize("args,fragment", REAL)
def test_real_zoo_processes_answer_in_one_line(args, fragment, tmp_path, trained):
    box = make_sandbox(tmp_path, trained)
    before = snapshot(box)
    proc = subprocess.run([sys.executable, "-m", "zoo.cli", *args], capture_output=True, text=True, cwd=box,
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy"}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and fragment in proc.stderr, proc.stderr
    assert snapshot(box) == before


def test_zz_fuzz_tally():
    """Prints how many commands each fuzz test ran and how they ended (run with -s to see it)."""
    for test, codes in sorted(Tally.seen.items()):
        print(f"fuzz {test}: {sum(codes.values())} commands, exit codes {dict(sorted(codes.items()))}")
