"""Each command imports only what it uses: torch only to train, an optimiser's ``torch._dynamo``
never, stable-baselines3 only for SB3 agents and formats, matplotlib only to draw, and pyplot
never. (Speed itself is measured by ``benchmarks/latency.py``, not here.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["torch", "torch._dynamo", "stable_baselines3", "matplotlib", "matplotlib.pyplot", "huggingface_hub",
         "imageio_ffmpeg"]

# Runs the zoo command line in a fresh interpreter, then reports which heavy modules it loaded.
RUN = """
import json, sys
from zoo.cli import main
heavy = json.loads(sys.argv[2])
sys.argv = ["zoo", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    if exc.code:
        raise
print(json.dumps([m for m in heavy if m in sys.modules]))
"""


def imported_by(*args: str, cwd=None) -> set[str]:
    done = subprocess.run([sys.executable, "-c", RUN, json.dumps(args), json.dumps(HEAVY)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["list"], ["eval", "reinforce", "cartpole", "--episodes", "3"],
                                  ["eval", "reinforce-baseline", "pixelcopter", "--episodes", "2"],
                                  ["eval", "hardcoded", "mountaincar-continuous", "--episodes", "2"]])
def test_listing_and_evaluating_import_no_torch_sb3_or_matplotlib(args):
    assert imported_by(*args) == set()


def test_recording_adds_only_the_video_encoder(tmp_path):
    assert imported_by("record", "reinforce", "cartpole", "--out", str(tmp_path / "a.mp4"),
                       "--max-steps", "20") == {"imageio_ffmpeg"}


def test_training_imports_torch_and_matplotlib_but_not_dynamo_or_pyplot(tmp_path):
    assert imported_by("train", "reinforce", "cartpole", "--steps", "2000", "--out", str(tmp_path / "run")) == {
        "torch", "matplotlib"}


def test_an_sb3_agent_is_evaluated_with_sb3(tmp_path):
    import zoo

    result = zoo.train("sb3-ppo", "cartpole", steps=64, out=tmp_path / "run", overrides={"n_steps": 64,
                                                                                          "iteration_steps": 64})
    assert "stable_baselines3" in imported_by("eval", "sb3-ppo", "cartpole", "--checkpoint", str(result.run_dir),
                                              "--episodes", "2")
