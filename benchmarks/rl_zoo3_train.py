"""Reference: rl-baselines3-zoo itself, ``python -m rl_zoo3.train``, on one entry of its own
``hyperparams/{algo}.yml`` (the file in the installed rl_zoo3 package, as the zoo's row reads it).

It runs as a separate process, exactly as an rl_zoo3 user types it::

    python -m rl_zoo3.train --algo ALGO --env GYM_ID --seed SEED -n CAP_STEPS -f TMP \\
        --eval-freq -1 --num-threads 1 --device cpu --verbose 0

``-n`` is the run's cap (the entry's ``n_timesteps`` in the suite, where rl_zoo3 scales
schedules to it as it does for any ``-n``). No periodic evaluation: the bench evaluates the
final model itself. The training returns are read back from the Monitor files rl_zoo3 writes
(``N.monitor.csv``, one per env); an episode's env step is ``n_envs`` times its env's own step
count (a DummyVecEnv steps every env once per step), its seconds the Monitor's. The final model
zip (and ``vecnormalize.pkl`` when the entry normalises) is loaded back as the policy: files
this process has just written, never a downloaded one. The run trains to its cap
(``stop = "cap"``): rl_zoo3 has no threshold to stop at.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from zoo.factory import env_entry
from zoo.tools.bench import StopRule, TrainRecord, load_trainer


def command(algo: str, gym_id: str, seed: int, steps: int, folder: Path) -> list[str]:
    return [sys.executable, "-m", "rl_zoo3.train", "--algo", algo, "--env", gym_id, "--seed", str(seed),
            "-n", str(steps), "-f", str(folder), "--eval-freq", "-1", "--num-threads", "1", "--device", "cpu",
            "--verbose", "0"]


def monitor_episodes(run_dir: Path) -> list[tuple[int, float, float]]:
    """``(env step at its end, return, seconds)`` of every episode in the run's Monitor files,
    in the order they ended."""
    files = sorted(run_dir.glob("*.monitor.csv"))
    episodes = []
    for file in files:
        with file.open(encoding="utf-8") as f:
            next(f)  # the Monitor's JSON header line
            steps = 0
            for row in csv.DictReader(f):
                steps += int(row["l"])
                episodes.append((steps * len(files), float(row["r"]), float(row["t"])))
    return sorted(episodes)


def load_policy(algo: str, run_dir: Path, gym_id: str) -> Any:
    import gymnasium as gym
    from rl_zoo3.utils import ALGOS
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    model = ALGOS[algo].load(run_dir / f"{gym_id}.zip", device="cpu")
    stats = run_dir / gym_id / "vecnormalize.pkl"
    if not stats.is_file():
        return model
    normalized_policy = load_trainer("sb3_rlzoo.py:NormalizedPolicy", Path(__file__).parent)  # one copy of it
    return normalized_policy(model, VecNormalize.load(str(stats), DummyVecEnv([lambda: gym.make(gym_id)])))


def train(env: str, seed: int, cap_steps: int, should_stop: StopRule, *, algo: str) -> TrainRecord:
    gym_id = env_entry(env).gym_id
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rl-zoo3-bench-") as folder:
        argv = command(algo, gym_id, seed, cap_steps, Path(folder))
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise RuntimeError(f"{' '.join(argv[1:])} failed (exit {done.returncode}): {tail}")
        run_dir = next((Path(folder) / algo).glob(f"{gym_id}_*"))
        episodes = monitor_episodes(run_dir)
        policy = load_policy(algo, run_dir, gym_id)
    trained = getattr(policy, "model", policy).num_timesteps  # as the zip recorded it
    return TrainRecord([e[1] for e in episodes], [e[0] for e in episodes], [e[2] for e in episodes], policy,
                       int(trained), time.perf_counter() - start)
