"""Two processes starting a run into the same ``--out`` at the same instant: exactly one of them
gets the folder, and the folder's header is the winner's (issue 13, item 1).

Processes are forked from this one after the plugins are loaded, so each is ready in
milliseconds, and released together by a barrier: the window between "the folder is empty"
and "the folder is mine" is what is being raced.
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from zoo.exceptions import ZooError
from zoo.factory import make_agent
from zoo.training.session import start

TRIALS = 12
#: Two runs whose headers differ, so the folder shows whose header it holds.
CONTENDERS = (("reinforce", 1), ("reinforce-baseline", 2))


def _contend(out: str, agent: str, seed: int, barrier, results) -> None:
    barrier.wait()
    try:
        session = start(agent, "cartpole", seed=seed, steps=64, out=out, argv=["zoo", "train", agent])
    except ZooError as exc:
        results.put((agent, "refused", str(exc)))
        return
    results.put((agent, "won", ""))
    barrier.wait()  # hold the folder (and its lock) until the loser has answered
    session.lock.close()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_two_processes_starting_the_same_out_at_once_one_wins_and_the_header_is_its(tmp_path):
    for agent, _ in CONTENDERS:
        make_agent(agent, "cartpole")  # load plugins and agent modules before forking
    context = multiprocessing.get_context("fork")
    for trial in range(TRIALS):
        out = tmp_path / f"run{trial}"
        if trial % 2:
            out.mkdir()  # an existing empty folder is raced for the same way
        barrier, results = context.Barrier(len(CONTENDERS)), context.Queue()
        procs = [context.Process(target=_contend, args=(str(out), agent, seed, barrier, results))
                 for agent, seed in CONTENDERS]
        for p in procs:
            p.start()
        answers = [results.get(timeout=60) for _ in procs]
        if sum(kind == "won" for _, kind, _ in answers) == 1:
            barrier.wait(timeout=60)
        for p in procs:
            p.join(timeout=60)
        winners = [agent for agent, kind, _ in answers if kind == "won"]
        assert len(winners) == 1, (trial, answers)
        config = json.loads((out / "config.json").read_text())
        assert config["agent"] == winners[0], (trial, answers)
        assert (out / "command.txt").read_text().split()[2] == winners[0]
        loser = next(message for _, kind, message in answers if kind == "refused")
        assert "another process" in loser or "not empty" in loser, loser


def test_a_folder_that_cannot_be_claimed_is_left_as_it_was(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").write_text("")  # claimed by a run that is starting
    with pytest.raises(ZooError, match="not empty|another process"):
        start("reinforce", "cartpole", steps=64, out=out)
    assert sorted(p.name for p in out.iterdir()) == [".lock"]
    assert Path(out / ".lock").read_text() == ""
