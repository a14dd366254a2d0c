"""Fuzzing what ``zoo plot`` and ``zoo train --resume`` read from a run folder besides its
checkpoints: ``returns.csv``, ``config.json``, ``progress.csv``, ``monitor.csv`` and
``command.txt``, damaged the ways files get damaged (cells changed, added or dropped, lines cut,
doubled, swapped or added, bytes truncated or flipped, binary junk, another header).

Every outcome is a success or one ``error:`` line with exit code 2 that leaves everything as it
was: ``zoo plot`` writes no figure, a refused resume leaves the run folder byte for byte as it
was. A resume that is accepted trains one iteration more.

Examples: ``ZOO_FUZZ=ci`` (default, fixed) or ``ZOO_FUZZ=slow`` (ten times more, random).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.checks import fuzz, snapshot

import zoo
from zoo import checkpoint as ckpt
from zoo.cli import run

#: Cells a damaged table may hold: numbers at and past every edge, words, quotes, separators.
CELLS = ["", "abc", "nan", "inf", "-inf", "-1", "0", "1", "1.5", "-0.0", "1e400", "1e30", "9" * 400, "0x10",
         "1_000", " 7 ", '"5"', '"a,b"', "a\"b", "ö日本", "\x00", "\r", "1,2", "[/x]", "#", "True"]
#: Values ``config.json``'s fields may be given.
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(),
              st.sampled_from(["", "reinforce", "cartpole", "sb3-dqn", "[/x]", "x" * 300])),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A small REINFORCE run, evaluated as it trains, with every log."""
    out = tmp_path_factory.mktemp("logs-fuzz") / "run"
    return zoo.train("reinforce", "cartpole", seed=2, steps=300, out=out, overrides={"n_envs": 2, "net_arch": "8"},
                     checkpoint_every=0, eval_every=100, eval_episodes=1, argv=["zoo", "train"]).run_dir


def damage_table(text: str, choose) -> tuple[str, str]:
    """One kind of damage to a CSV file's text; returns the new text and what was done."""
    lines = text.split("\n")
    how = choose(st.sampled_from(["cell", "cell", "drop cell", "add cell", "drop line", "double line", "swap lines",
                                  "add line", "header", "cut", "flip byte", "binary", "empty"]))
    line = choose(st.integers(0, max(len(lines) - 2, 0)))
    cells = lines[line].split(",")
    column = choose(st.integers(0, max(len(cells) - 1, 0)))
    if how == "cell":
        cells[column] = choose(st.sampled_from(CELLS) | st.text(max_size=8))
    elif how == "drop cell" and len(cells) > 1:
        del cells[column]
    elif how == "add cell":
        cells.insert(column, choose(st.sampled_from(CELLS)))
    lines[line] = ",".join(cells)
    if how == "drop line":
        del lines[line]
    elif how == "double line":
        lines.insert(line, lines[line])
    elif how == "swap lines" and len(lines) > 2:
        other = choose(st.integers(0, len(lines) - 2))
        lines[line], lines[other] = lines[other], lines[line]
    elif how == "add line":
        lines.insert(choose(st.integers(0, len(lines))), ",".join(choose(st.lists(st.sampled_from(CELLS),
                                                                                    max_size=8))))
    elif how == "header":
        lines[0] = choose(st.sampled_from(["a,b,c,d,e", "", "episode,return", "r,l,t", "#{}", "time/iterations",
                                           lines[0] + ",extra", lines[0].replace(",", ";")]))
    text = "\n".join(lines)
    data = text.encode()
    if how == "cut":
        data = data[:choose(st.integers(0, len(data)))]
    elif how == "flip byte" and data:
        at = choose(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ choose(st.sampled_from([0x80, 0xFF, 0x20, 0x01]))]) + data[at + 1:]
    elif how == "binary":
        data = choose(st.binary(min_size=1, max_size=300))
    elif how == "empty":
        data = b""
    return data.decode("latin-1"), f"{how} at line {line + 1}"


def _json_or_none(path: Path) -> object:
    """The file's JSON, or None when an earlier damage left it unreadable."""
    try:
        return json.loads(path.read_bytes())
    except ValueError:
        return None


def damage(run_dir: Path, files: list[str], choose) -> str:
    """One to three kinds of damage to the named files of ``run_dir``."""
    done = []
    for _ in range(choose(st.integers(1, 3))):
        name = choose(st.sampled_from(files))
        path = run_dir / name
        if name == "config.json" and choose(st.booleans()) and isinstance(config := _json_or_none(path), dict):
            key = choose(st.sampled_from(sorted(config) + ["extra"]))
            config[key] = choose(json_values)
            path.write_text(json.dumps(config))
            done.append(f"config.json {key}")
            continue
        text, what = damage_table(path.read_bytes().decode("latin-1"), choose)
        path.write_bytes(text.encode("latin-1"))
        done.append(f"{name}: {what}")
    return "; ".join(done)


def cli(*args: str) -> tuple[int, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = run(list(args))
    return code, stderr.getvalue()


def assert_success_or_one_line(code: int, stderr: str, note: str) -> None:
    errors = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr and "internal error" not in stderr, (note, stderr)
    assert code == 0 or (code == 2 and len(errors) == 1 and errors[0].startswith("error: ")), (note, code, stderr)


SEEN = {"plotted": 0, "plot refused": 0, "resumed": 0, "resume refused": 0}


@fuzz(40)
@given(data=st.data())
def test_zoo_plot_draws_or_refuses_a_damaged_run_in_one_line(data, trained, tmp_path):
    box = Path(tempfile.mkdtemp(dir=tmp_path))
    run_dir = box / "run"
    shutil.copytree(trained, run_dir)
    note = damage(run_dir, ["returns.csv", "config.json"], data.draw)
    before = snapshot(box)
    code, stderr = cli("plot", str(run_dir), "--out", str(box / "curves.png"))
    assert_success_or_one_line(code, stderr, note)
    if code == 0:
        SEEN["plotted"] += 1
        assert (box / "curves.png").stat().st_size > 0, note
    else:
        SEEN["plot refused"] += 1
        assert snapshot(box) == before, note  # no figure, nothing else
    shutil.rmtree(box, ignore_errors=True)


@fuzz(40)
@given(data=st.data())
def test_resume_over_damaged_logs_trains_on_or_refuses_leaving_the_run_as_it_was(data, trained, tmp_path):
    box = Path(tempfile.mkdtemp(dir=tmp_path))
    run_dir = box / "run"
    shutil.copytree(trained, run_dir)
    newest = ckpt.find_checkpoint(run_dir).name
    note = damage(run_dir, ["progress.csv", "monitor.csv", "command.txt", "returns.csv", "config.json"], data.draw)
    before = snapshot(run_dir)
    # Two steps more: one step of the run's 2 copies (the budget never lets them run past it).
    code, stderr = cli("train", "--resume", str(run_dir), "--steps", str(int(newest) + 2))
    assert_success_or_one_line(code, stderr, note)
    if code == 0:
        SEEN["resumed"] += 1
        assert ckpt.find_checkpoint(run_dir).name > newest, note
    else:
        SEEN["resume refused"] += 1
        assert snapshot(run_dir) == before, note
    shutil.rmtree(box, ignore_errors=True)


def test_zz_log_fuzz_tally():
    """Prints what the log fuzzing saw (run with -s to see it)."""
    print(f"log fuzz: {SEEN}")
