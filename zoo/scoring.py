"""Evaluating any SB3-style policy on a zoo env: many copies at once, counted as SB3 counts.

:func:`evaluate` steps ``n_envs`` copies of the env in one gymnasium vector env (the env's own
batched implementation where it has one, as training does) with one batched ``predict`` per
step. :func:`run_episodes` counts episodes exactly as stable-baselines3's ``evaluate_policy``
does for a VecEnv of ``n_envs`` envs: copy ``i`` contributes only its first
``(episodes + i) // n_envs`` episodes, so every copy runs its share and short episodes are not
over-represented. Episodes are listed in SB3's order: by the number of steps their copy had
taken when they ended (a step that only resets a copy does not count, as SB3's VecEnvs reset
within the last step), copies in index order on a tie. With the same seeded copies stepped one
by one (``vectorization_mode="sync"``) the returns are SB3's, episode for episode
(``tests/test_evaluation_agreement.py``).

SB3 itself is imported only by :func:`make_monitored_vec_env` and
:func:`evaluate_with_sb3` (SB3's own evaluator, kept for comparison and for SB3's agents).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import gymnasium
import numpy as np

from zoo.entries import EnvEntry
from zoo.factory import env_entry, episode_step_cap, make_env, make_vec_env
from zoo.limits import MAX_SEED, check_count, check_seed
from zoo.policy import PolicyPredictor

#: How far the evaluation seed is from the training seed: see :func:`evaluation_seed`.
EVAL_SEED_OFFSET = 10_000

#: Copies stepped at once when the caller does not say: every episode of an evaluation of up
#: to this many episodes runs in its own copy, so wall time is that of the longest episode.
MAX_EVAL_ENVS = 100

#: ``progress(episodes_done, episodes_total)``, called as episodes end.
EvalProgress = Callable[[int, int], None]


@dataclass
class EvalResult:
    env: str
    episodes: int
    mean: float
    std: float
    min: float
    max: float
    mean_length: float
    deterministic: bool
    seed: int
    returns: list[float]
    lengths: list[int]

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"{self.env}: mean return {self.mean:.2f} ± {self.std:.2f} over {self.episodes} episodes "
                f"(min {self.min:.2f}, max {self.max:.2f}, mean length {self.mean_length:.1f})")


def evaluation_seed(training_seed: int) -> int:
    """The seed that evaluates a policy trained with ``training_seed``: ``training_seed + 10,000``,
    wrapped into the zoo's seed range (``(seed + 10,000) mod 2**31``). The one rule of the zoo:
    evaluation during training, ``zoo sweep``, ``zoo tune``, ``zoo build-pretrained`` and
    ``zoo bench`` all use it, and ``zoo eval --seed`` with this number repeats their evaluation.

    Training seeds env copy ``i`` with ``training_seed + i``, evaluation copy ``j`` with this seed
    ``+ j`` (at most :data:`MAX_EVAL_ENVS` copies), so evaluation episodes never start from a
    training seed while a run trains on at most 10,000 env copies; a wrapped seed is below
    10,000 and its training seeds above ``2**31 - 10,001``."""
    return (check_seed(training_seed) + EVAL_SEED_OFFSET) % (MAX_SEED + 1)


def episode_targets(episodes: int, n_envs: int) -> np.ndarray:
    """How many episodes each of ``n_envs`` copies contributes (SB3's ``episode_count_targets``)."""
    return np.array([(episodes + i) // n_envs for i in range(n_envs)], dtype=int)


def run_episodes(policy: PolicyPredictor, envs: gymnasium.vector.VectorEnv, episodes: int, *, seed: int,
                 deterministic: bool = True,
                 progress: EvalProgress | None = None) -> tuple[list[float], list[int]]:
    """Returns and lengths of ``episodes`` episodes of ``policy`` on ``envs`` (reset with
    ``seed``), counted as SB3's ``evaluate_policy`` counts them (see the module docstring)."""
    n = envs.num_envs
    targets, counts = episode_targets(episodes, n), np.zeros(n, dtype=int)
    totals, steps, clock = np.zeros(n), np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    mode = envs.metadata.get("autoreset_mode", gymnasium.vector.AutoresetMode.NEXT_STEP)
    ended: list[tuple[int, int, float, int]] = []  # (copy's steps so far, copy, return, length)
    obs, _ = envs.reset(seed=seed)
    state, episode_start = None, np.ones(n, dtype=bool)
    resetting = np.zeros(n, dtype=bool)  # next-step autoreset: this step only resets the copy
    while (counts < targets).any():
        actions, state = policy.predict(obs, state=state, episode_start=episode_start, deterministic=deterministic)
        obs, rewards, terminated, truncated, _ = envs.step(actions)
        live = ~resetting
        totals[live] += rewards[live]
        steps[live] += 1
        clock[live] += 1
        done = (terminated | truncated) & live
        for i in np.flatnonzero(done):
            if counts[i] < targets[i]:
                ended.append((int(clock[i]), int(i), float(totals[i]), int(steps[i])))
                counts[i] += 1
                if progress is not None:
                    progress(len(ended), episodes)
        totals[done], steps[done] = 0.0, 0
        if mode == gymnasium.vector.AutoresetMode.NEXT_STEP:
            # The obs after a reset step starts an episode; the one after a done ends one.
            episode_start, resetting = resetting, done
        elif mode == gymnasium.vector.AutoresetMode.SAME_STEP:
            episode_start = done
        else:  # DISABLED: the copies that finished are reset here
            if done.any():
                obs, _ = envs.reset(options={"reset_mask": done})
            episode_start = done
    ended.sort(key=lambda episode: episode[:2])
    return [episode[2] for episode in ended], [episode[3] for episode in ended]


def _result(env: str, returns: list[float], lengths: list[int], deterministic: bool, seed: int) -> EvalResult:
    values = np.asarray(returns, dtype=float)
    return EvalResult(
        env=env, episodes=len(values), mean=float(values.mean()), std=float(values.std()),
        min=float(values.min()), max=float(values.max()), mean_length=float(np.mean(lengths)),
        deterministic=deterministic, seed=seed, returns=values.tolist(), lengths=[int(n) for n in lengths],
    )


def check_options(episodes: int, seed: int, max_episode_steps: int | None = None) -> None:
    """Refuse, in one line, counts and seeds outside the zoo's ranges (:mod:`zoo.limits`)."""
    check_count(episodes, "--episodes")
    check_seed(seed)
    if max_episode_steps is not None:
        check_count(max_episode_steps, "--max-steps")


def evaluate(policy: PolicyPredictor, env: str | EnvEntry, *, episodes: int = 10, seed: int = 0,
             deterministic: bool = True, max_episode_steps: int | None = None, n_envs: int | None = None,
             vectorization_mode: str | None = None, progress: EvalProgress | None = None) -> EvalResult:
    """Run ``episodes`` episodes of ``policy`` (any object with SB3's ``predict``) on ``env``,
    in ``n_envs`` copies at once (default: one per episode, up to :data:`MAX_EVAL_ENVS`).
    ``vectorization_mode="sync"`` steps single envs even where the env has a batched version."""
    check_options(episodes, seed, max_episode_steps)
    entry = env_entry(env)
    cap = episode_step_cap(entry, max_episode_steps)
    envs = make_vec_env(entry, n_envs or min(episodes, MAX_EVAL_ENVS), max_episode_steps=cap,
                        vectorization_mode=vectorization_mode)
    try:
        returns, lengths = run_episodes(policy, envs, episodes, seed=seed, deterministic=deterministic,
                                        progress=progress)
    finally:
        envs.close()
    return _result(entry.name, returns, lengths, deterministic, seed)


# -- stable-baselines3's own evaluator --------------------------------------------------------------
def make_monitored_vec_env(env: str | EnvEntry, n_envs: int, seed: int, max_episode_steps: int | None = None):
    """An SB3 ``DummyVecEnv`` of Monitor-wrapped copies of a zoo env, seeded."""
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    def factory():
        return Monitor(make_env(env, max_episode_steps=max_episode_steps))

    vec_env = DummyVecEnv([factory] * n_envs)
    vec_env.seed(seed)
    return vec_env


def evaluate_with_sb3(policy: PolicyPredictor, env: str | EnvEntry, *, episodes: int = 10, seed: int = 0,
                      deterministic: bool = True, max_episode_steps: int | None = None,
                      n_envs: int | None = None) -> EvalResult:
    """:func:`evaluate` through stable-baselines3's ``evaluate_policy`` on a ``DummyVecEnv`` of
    Monitor-wrapped copies (env ``i`` seeded ``seed + i``): the reference the zoo's evaluator
    is tested against. Slower (one env at a time) and imports SB3 (and torch)."""
    from stable_baselines3.common.evaluation import evaluate_policy

    check_options(episodes, seed, max_episode_steps)
    entry = env_entry(env)
    cap = episode_step_cap(entry, max_episode_steps)
    vec_env = make_monitored_vec_env(entry, n_envs or min(episodes, MAX_EVAL_ENVS), seed, cap)
    try:
        returns, lengths = evaluate_policy(policy, vec_env, n_eval_episodes=episodes, deterministic=deterministic,
                                           return_episode_rewards=True, warn=False)
    finally:
        vec_env.close()
    return _result(entry.name, list(returns), list(lengths), deterministic, seed)
