"""Fuzzing checkpoints: real checkpoint folders, mutated, must load cleanly or be refused in
one line, never a traceback; a refused ``--resume`` leaves the run folder as it was.

Mutations: ``zoo.json`` fields (any JSON value, removed, nested deep), ``training.json``
fields (counters, env and random states, optimiser settings), env names with a module part in
``zoo.json`` or the run's ``config.json`` (a payload module that must never be imported, modules
imported already, malformed ones), tensors in
``model.safetensors`` and ``training.safetensors`` (renamed, removed, added, reshaped, another
dtype, NaN/inf/huge values), raw bytes (truncated, flipped); with the recorded checksums
(``zoo.json``'s checksum of itself too) brought up to date, as a careful forger would, or left
stale. Each mutated folder is loaded with ``zoo.load_agent`` (then asked to act), evaluated
through ``zoo eval --checkpoint`` and resumed with ``zoo.training.resuming.continue_run``; the
payload module is never imported.

Examples: ``ZOO_FUZZ=ci`` (default: fixed, derandomized) or ``ZOO_FUZZ=slow`` (ten times
more, random).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from support.checks import fuzz, snapshot, write_meta

import zoo
from zoo import checkpoint as ckpt
from zoo.cli import run
from zoo.exceptions import ZooError
from zoo.training.resuming import continue_run

FUZZ = fuzz(120)

#: Real runs to mutate, each evaluated as it trains (the loop's evaluation schedule is saved):
#: REINFORCE (its optimiser and generators), the baseline agent on a Box env, and off-policy SB3
#: agents (replay buffers, replayed envs; SAC's three optimisers, entropy coefficient, Box actions).
RUNS = {
    "reinforce": ("cartpole", 300, {"n_envs": 2, "net_arch": "8"}),
    "reinforce-baseline": ("mountaincar-continuous", 2000, {"n_envs": 2, "net_arch": "8"}),
    "sb3-dqn": ("cartpole", 128, {"learning_starts": 16, "buffer_size": 64, "batch_size": 8, "train_freq": 4,
                                  "iteration_steps": 64, "net_arch": "8", "target_update_interval": 16}),
    "sb3-sac": ("pendulum", 128, {"learning_starts": 16, "buffer_size": 64, "batch_size": 8, "train_freq": 4,
                                  "iteration_steps": 64, "net_arch": "8", "ent_coef": "auto"}),
}
EVAL_EVERY = 100

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(),
              st.sampled_from(["", "[/x]", "[bold red]cartpole", "ö日本", "cartpole", "reinforce", "sb3-ppo",
                               "agent-zoo-checkpoint", "PCG64", "MT19937", "x" * 1000])),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ckpt-fuzz")
    found = {}
    for agent, (env, steps, config) in RUNS.items():
        found[agent] = zoo.train(agent, env, seed=1, steps=steps, out=root / agent, overrides=config,
                                 argv=["zoo"], checkpoint_every=0, eval_every=EVAL_EVERY, eval_episodes=1).run_dir
    return found


# -- mutations ---------------------------------------------------------------------------------------------
DEEP = "(deeply nested)"


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON value."""
    yield prefix, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _set(document, path, value, delete=False):
    target = document
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value


def mutate_json(data, choose) -> tuple[dict, str]:
    paths = [p for p, _ in _paths(data) if p]
    path = choose(st.sampled_from(paths))
    how = choose(st.sampled_from(["replace", "delete", "deep"]))
    if how == "delete":
        _set(data, path, None, delete=True)
    elif how == "deep":
        _set(data, path, DEEP)  # swapped for 100,000 nested lists when the file is written
    else:
        _set(data, path, choose(json_values))
    return data, f"{how} {'.'.join(map(str, path))}"


def forge_tensor(tensor: torch.Tensor, how: str) -> torch.Tensor:
    if how == "nan" and tensor.is_floating_point():
        return tensor.clone().fill_(float("nan"))
    if how == "inf" and tensor.is_floating_point():
        return tensor.clone().fill_(float("inf"))
    if how == "huge" and tensor.is_floating_point():
        return tensor.clone().fill_(3e38)
    if how == "zeros":
        return torch.zeros_like(tensor)
    if how == "shape":
        return torch.zeros(tuple(tensor.shape) + (2,), dtype=tensor.dtype)
    if how == "truncate":
        return tensor.flatten()[: max(tensor.numel() // 2, 0)].clone()
    if how == "scalar":
        return torch.tensor(7, dtype=tensor.dtype)
    dtypes = {"float64": torch.float64, "float16": torch.float16, "int64": torch.int64, "bool": torch.bool,
              "uint8": torch.uint8, "int32": torch.int32}
    return tensor.to(dtypes.get(how, torch.float64))


def mutate_tensors(tensors, choose) -> tuple[dict, str]:
    name = choose(st.sampled_from(sorted(tensors)))
    how = choose(st.sampled_from(["nan", "inf", "huge", "zeros", "shape", "truncate", "scalar", "float64",
                                  "float16", "int64", "bool", "uint8", "int32", "rename", "remove", "add"]))
    if how == "rename":
        tensors[name + "_x"] = tensors.pop(name)
    elif how == "remove":
        del tensors[name]
    elif how == "add":
        tensors["extra.[/x]"] = torch.zeros(3)
    else:
        tensors[name] = forge_tensor(tensors[name], how)
    return tensors, f"{how} tensor {name}"


def module_env_names(payload) -> st.SearchStrategy[str]:
    """Env names with a module part: the payload's (never to be imported), modules imported already
    (importing them again runs nothing), and malformed ones."""
    return st.sampled_from([payload.env, payload.dotted_env, f"{payload.module}:cartpole", f"{payload.module}:",
                            f"{payload.package}:CartPole-v1", ":CartPole-v1", "os:CartPole-v1", "json:cartpole",
                            "os:NoSuchEnv-v0", "a:b:c", "[/x]:CartPole-v1", ".relative:CartPole-v1"])


def mutate_env_name(folder: Path, run_dir: Path, choose, payload) -> str:
    """Name an env with a module part in the checkpoint's zoo.json or the run's config.json."""
    name = choose(module_env_names(payload))
    if choose(st.booleans()):
        config = json.loads((run_dir / "config.json").read_text())
        (run_dir / "config.json").write_text(json.dumps({**config, "env": name}))
        return f"config.json env {name!r}"
    key = choose(st.sampled_from(["env", "env_module"]))
    meta = json.loads((folder / "zoo.json").read_text())
    meta[key] = name if key == "env" else name.partition(":")[0]
    (folder / "zoo.json").write_text(json.dumps(meta))
    return f"zoo.json {key} from {name!r}"


def mutate(folder: Path, choose, run_dir: Path, payload) -> str:
    """Apply one mutation to the checkpoint ``folder`` (or its run's config.json); returns what was done."""
    from safetensors.torch import load_file, save_file

    target = choose(st.sampled_from(["zoo.json", "training.json", "model.safetensors", "training.safetensors",
                                     "bytes", "env name"]))
    fix_checksums = choose(st.booleans().map(lambda b: b or True) | st.booleans())
    if target == "env name":
        what = mutate_env_name(folder, run_dir, choose, payload)
    elif target == "bytes":
        name = choose(st.sampled_from(sorted(p.name for p in folder.iterdir())))
        data = bytearray((folder / name).read_bytes())
        cut = choose(st.integers(0, max(len(data) - 1, 0)))
        if choose(st.booleans()):
            data = data[:cut]
        elif data:
            data[cut] ^= 0xFF
        (folder / name).write_bytes(bytes(data))
        what = f"bytes of {name} at {cut}"
    elif target.endswith(".json"):
        document, what = mutate_json(json.loads((folder / target).read_text()), choose)
        (folder / target).write_text(json.dumps(document).replace(json.dumps(DEEP), "[" * 100_000 + "]" * 100_000))
    else:
        tensors, what = mutate_tensors(load_file(str(folder / target)), choose)
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / target))
    if fix_checksums:
        with contextlib.suppress(Exception):  # zoo.json itself may be what was broken
            meta = json.loads((folder / "zoo.json").read_text())
            if target != "zoo.json":
                meta["weights_sha256"] = ckpt._sha256(folder / "model.safetensors")
                for name in ("training.safetensors", "training.json"):
                    meta["training_sha256"][name] = ckpt._sha256(folder / name)
            meta[ckpt.META_SHA256] = ckpt.meta_sha256(meta)  # zoo.json's checksum of itself, last
            (folder / "zoo.json").write_text(json.dumps(meta))
    return f"{what} ({'checksums updated' if fix_checksums else 'stale checksums'})"


SEEN = {"mutations": 0, "loaded": 0, "refused": 0, "resumed": 0, "resume refused": 0}


@FUZZ
@given(agent=st.sampled_from(sorted(RUNS)), data=st.data())
def test_mutated_checkpoints_load_cleanly_or_are_refused_in_one_line(agent, data, runs, tmp_path, payload):
    box = Path(tempfile.mkdtemp(dir=tmp_path))
    run_dir = box / "run"
    shutil.copytree(runs[agent], run_dir)
    folder = ckpt.find_checkpoint(run_dir)
    what = mutate(folder, data.draw, run_dir, payload)
    SEEN["mutations"] += 1
    note = f"{agent}: {what}"
    env = RUNS[agent][0]

    try:
        loaded = zoo.load_agent(folder)
    except ZooError as exc:
        assert "\n" not in str(exc), note
        SEEN["refused"] += 1
    else:
        SEEN["loaded"] += 1
        obs = np.stack([loaded.env.observation_space.sample() for _ in range(2)])
        actions, _ = loaded.predict(obs, deterministic=True)
        assert loaded.env.action_space.contains(np.asarray(actions)[0]), note

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = run(["eval", agent, env, "--checkpoint", str(folder), "--episodes", "1", "--max-steps", "5"])
    lines = [line for line in stderr.getvalue().splitlines() if line.strip()]
    assert code in (0, 2) and "Traceback" not in stderr.getvalue(), (note, stderr.getvalue())
    assert code == 0 or (len(lines) == 1 and lines[0].startswith("error: ")), (note, stderr.getvalue())

    before = snapshot(run_dir)
    try:
        session = continue_run(run_dir, steps=10**6, argv=["zoo", "train", "--resume"])
    except ZooError as exc:
        assert "\n" not in str(exc), note
        assert snapshot(run_dir) == before, note
        SEEN["resume refused"] += 1
    else:
        session.lock.close()  # it could train: that is all this test needs to know
        SEEN["resumed"] += 1
    assert not payload.imported(), note  # nothing read from a file imports a module
    shutil.rmtree(box, ignore_errors=True)


# -- forged training states: checksums brought up to date, then resumed for real ---------------------------
#: Values a forger tries: the edges of every range the zoo checks, and just past them.
EDGES = [-1, 0, 1, 2, 7, 255, 624, 625, 2**31 - 1, 2**31, 2**32, 2**63, 2**64, 10**12, 10**12 + 1, 10**30, -(10**30),
         0.5, 1.5, -0.0, 1e-30, 1e30, -1e30, 3.5e38, float("nan"), float("inf"), float("-inf"), True, False, None,
         "", "x", [], {}, [0], {"seed": 0}]
forged_values = st.sampled_from(EDGES) | st.integers() | st.floats() | json_values


def forge_json(data: dict, choose) -> str:
    """Change one leaf of ``training.json`` (or delete it, or change a number a little)."""
    leaves = [(path, value) for path, value in _paths(data) if path and not isinstance(value, (dict, list))]
    path, value = choose(st.sampled_from(leaves))
    how = choose(st.sampled_from(["value", "value", "delete", "nudge"]))
    if how == "delete":
        _set(data, path, None, delete=True)
    elif how == "nudge" and isinstance(value, (int, float)) and not isinstance(value, bool):
        _set(data, path, value + choose(st.sampled_from([-1, 1, 0.5, 1e-9, 10**6])))
    else:
        _set(data, path, choose(forged_values))
    return f"{how} {'.'.join(map(str, path))}"


def forge_tensor_values(tensors: dict, choose) -> str:
    """Change values of one tensor of ``training.safetensors``, its dtype and shape kept (the
    cases the shape and dtype checks do not catch), or one element only."""
    name = choose(st.sampled_from(sorted(tensors)))
    tensor = tensors[name].clone()
    edge = choose(st.sampled_from([-1, 0, 1, 2, 7, 255, 1e30, -1e30, float("nan"), float("inf"), 0.5, -0.5]))
    how = choose(st.sampled_from(["fill", "one", "scale", "negate"]))
    if tensor.numel() == 0 or (not tensor.is_floating_point() and not math.isfinite(edge)):
        how = "negate"
    if not tensor.is_floating_point() and how != "negate":  # a whole number the dtype can hold
        edge = bool(edge) if tensor.dtype == torch.bool else min(max(int(edge), torch.iinfo(tensor.dtype).min),
                                                                   torch.iinfo(tensor.dtype).max)
    if how == "fill":
        tensor.fill_(edge)
    elif how == "one":
        flat = tensor.view(-1)
        flat[choose(st.integers(0, tensor.numel() - 1))] = edge
    elif how == "scale" and tensor.is_floating_point():
        tensor *= choose(st.sampled_from([-1.0, 1e6, 1e30, 1e-30]))
    elif tensor.dtype != torch.bool:
        tensor = -tensor
    tensors[name] = tensor
    return f"{how} {name} ({edge})"


def forge(folder: Path, choose) -> str:
    """One to three forged fields of the checkpoint's training state, checksums brought up to date."""
    from safetensors.torch import load_file, save_file

    done = []
    for _ in range(choose(st.integers(1, 3))):
        if choose(st.sampled_from(["json", "json", "tensors"])) == "json":
            data = json.loads((folder / ckpt.TRAINING_DATA_FILE).read_text())
            done.append(forge_json(data, choose))
            (folder / ckpt.TRAINING_DATA_FILE).write_text(json.dumps(data))
        else:
            tensors = load_file(str(folder / ckpt.TRAINING_TENSORS_FILE))
            done.append(forge_tensor_values(tensors, choose))
            save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / ckpt.TRAINING_TENSORS_FILE))
    meta = json.loads((folder / ckpt.META_FILE).read_text())
    meta["training_sha256"] = {name: ckpt._sha256(folder / name)
                               for name in (ckpt.TRAINING_TENSORS_FILE, ckpt.TRAINING_DATA_FILE)}
    write_meta(folder, meta)
    return "; ".join(done)


FORGED = {"forged": 0, "resumed": 0, "refused": 0}


@fuzz(40)
@given(agent=st.sampled_from(sorted(RUNS)), data=st.data())
def test_forged_training_states_resume_or_are_refused_in_one_line_leaving_the_run_as_it_was(agent, data, runs,
                                                                                            tmp_path):
    """A careful forger's training state: every field may be changed, the checksums recomputed.
    ``zoo train --resume`` then trains one more iteration, or refuses in one line and leaves the
    run folder byte for byte as it was; never an internal error, never a half-rewritten run."""
    box = Path(tempfile.mkdtemp(dir=tmp_path))
    run_dir = box / "run"
    shutil.copytree(runs[agent], run_dir)
    folder = ckpt.find_checkpoint(run_dir)
    note = f"{agent}: {forge(folder, data.draw)}"
    FORGED["forged"] += 1
    before = snapshot(run_dir)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        # Two steps more: one step of the REINFORCE runs' 2 copies (the budget never lets them run past it).
        code = run(["train", "--resume", str(run_dir), "--steps", str(int(folder.name) + 2)])
    errors = [line for line in stderr.getvalue().splitlines() if line.startswith("error:")]
    assert "Traceback" not in stderr.getvalue() and "internal error" not in stderr.getvalue(), (note, stderr.getvalue())
    if code == 0:
        FORGED["resumed"] += 1
        assert ckpt.find_checkpoint(run_dir).name > folder.name, note  # it trained on
    else:
        FORGED["refused"] += 1
        assert code == 2 and len(errors) == 1, (note, stderr.getvalue())
        assert snapshot(run_dir) == before, note
    shutil.rmtree(box, ignore_errors=True)


def test_zz_checkpoint_fuzz_tally():
    """Prints what the mutation fuzzing saw (run with -s to see it)."""
    print(f"checkpoint fuzz: {SEEN}; forged training states: {FORGED}")
