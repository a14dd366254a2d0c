"""Pixelcopter vector env: same dynamics as the single env, gymnasium's vector API and
NEXT_STEP autoreset, seeding."""

from __future__ import annotations

import functools
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import zoo.envs.pixelcopter  # noqa: F401  (registers the gymnasium ids)
from zoo.envs.ple.pixelcopter.env import PixelcopterEnv
from zoo.envs.ple.pixelcopter.heuristic import PixelcopterHeuristic
from zoo.envs.ple.pixelcopter.vector_env import PixelcopterVectorEnv


@pytest.fixture(scope="module")
def fixture_states(fixture_paths, load_fixture):
    """``fixture_states(every=8) -> (states, actions)``, computed once."""

    @functools.cache
    def states_along_the_reference_runs(every: int = 8) -> tuple[list, list]:
        """Game states (and the recorded next action) along the reference runs: every state of
        the crash runs (edge-case deaths, seams), every `every`-th of the others."""
        env = PixelcopterEnv()
        states, actions = [], []
        for path in fixture_paths("pixelcopter"):
            data = load_fixture(path)
            for policy, run in data["policies"].items():
                for episode in run["episodes"]:
                    env.reset(seed=data["seed"] if episode["index"] == 0 else None)
                    for i, action in enumerate(episode["actions"]):
                        if policy == "crash" or i % every == 0 or i >= len(episode["actions"]) - 3:
                            states.append(env.get_state())
                            actions.append(action)
                        env.step(action)
        return states, actions

    return states_along_the_reference_runs


def spawned(before, after) -> bool:
    """Whether a transition drew randomness (a new block, or a new chunk of cave)."""
    return after.blocks[-1][2] == 0 or len(after.cave) > len(before.cave)


def assert_same_transition(before, action, obs, reward, terminated, vector_after, single: PixelcopterEnv) -> None:
    """Step the single env from `before` and compare with what the vector env produced."""
    single.set_state(before)
    s_obs, s_reward, s_terminated, _, _ = single.step(action)
    after = single.get_state()
    # Everything except what was just drawn (the new block's entries, the new chunk).
    observed = slice(0, 4) if after.blocks[-1][2] == 0 else slice(0, 7)
    assert np.array_equal(obs[observed], s_obs[observed]), (before, action)
    assert (reward, terminated) == (s_reward, s_terminated), (before, action)
    assert (vector_after.frame, vector_after.player_y, vector_after.player_vel) == (
        after.frame,
        after.player_y,
        after.player_vel,
    )
    old_blocks = [b for b in after.blocks if b[2] > 0]
    assert [b for b in vector_after.blocks if b[2] > 0] == old_blocks
    # A refill appends a new chunk of 48 columns; the columns that were there must agree.
    kept = len(after.cave) - 48 if len(after.cave) > len(before.cave) else len(after.cave)
    assert len(vector_after.cave) == len(after.cave) and vector_after.cave[:kept] == after.cave[:kept]


def test_same_state_same_transition_on_every_kind_of_frame(fixture_states):
    states, actions = fixture_states()
    vector = PixelcopterVectorEnv(num_envs=len(states))
    vector.reset(seed=0)
    for i, state in enumerate(states):
        vector.set_state(i, state)
    obs, reward, terminated, truncated, _ = vector.step(np.array(actions))
    assert not truncated.any()
    single = PixelcopterEnv()
    single.reset(seed=0)
    events = {"terminal": 0, "block spawn": 0, "refill": 0}
    for i, (state, action) in enumerate(zip(states, actions)):
        after = vector.get_state(i)
        assert_same_transition(state, action, obs[i], reward[i], terminated[i], after, single)
        events["terminal"] += bool(terminated[i])
        events["block spawn"] += after.blocks[-1][2] == 0
        events["refill"] += len(after.cave) > len(state.cave)
    assert all(n > 5 for n in events.values()), events


@pytest.mark.parametrize("options", [{"normalize": True}, {"block_edges": True}])
def test_options_give_the_single_envs_observations(options, fixture_states):
    states, actions = fixture_states()
    states, actions = states[::10], actions[::10]
    vector = PixelcopterVectorEnv(num_envs=len(states), **options)
    vector.reset(seed=0)
    for i, state in enumerate(states):
        vector.set_state(i, state)
    obs, reward, terminated, _, _ = vector.step(np.array(actions))
    single = PixelcopterEnv(**options)
    single.reset(seed=0)
    for i, (state, action) in enumerate(zip(states, actions)):
        assert_same_transition(state, action, obs[i], reward[i], terminated[i], vector.get_state(i), single)


def test_vector_levels_replayed_by_the_single_env():
    """The vector env's own levels, long episodes (the heuristic pilot) with refills: from
    every copy's state, the single env makes the same next step."""
    n = 24
    vector = PixelcopterVectorEnv(num_envs=n)
    obs, _ = vector.reset(seed=11)
    pilot = PixelcopterHeuristic()
    single = PixelcopterEnv()
    single.reset(seed=0)
    starts = np.ones(n, dtype=bool)
    refills = 0
    for _ in range(400):
        actions, _ = pilot.predict(obs, episode_start=starts)
        before = [vector.get_state(i) for i in range(n)]
        obs, reward, terminated, truncated, _ = vector.step(actions)
        for i in range(n):
            if before[i].game_over:  # this step restarted copy i
                continue
            after = vector.get_state(i)
            refills += len(after.cave) > len(before[i].cave)
            assert_same_transition(before[i], int(actions[i]), obs[i], reward[i], terminated[i], after, single)
        starts = np.array([s.game_over for s in before])
    assert refills > 0


def test_set_state_then_many_steps(fixture_paths, load_fixture):
    """States copied in from the single env keep their cave for as long as they are played."""
    data = load_fixture(fixture_paths("pixelcopter")[0])
    actions = data["policies"]["lookahead"]["episodes"][0]["actions"]
    starts = list(range(0, 2800, 37))
    vector = PixelcopterVectorEnv(num_envs=len(starts))
    vector.reset(seed=5)
    singles = []
    for j, start in enumerate(starts):
        env = PixelcopterEnv()
        env.reset(seed=data["seed"])
        for a in actions[:start]:
            env.step(a)
        vector.set_state(j, env.get_state())
        singles.append(env)
    live = np.ones(len(starts), dtype=bool)
    for k in range(120):
        step_actions = np.array([actions[s + k] for s in starts])
        obs, reward, terminated, _, _ = vector.step(step_actions)
        for j, env in enumerate(singles):
            if not live[j]:
                continue
            blocks, cave = len(env.get_state().blocks), len(env.get_state().cave)
            s_obs, s_reward, s_terminated, _, _ = env.step(int(step_actions[j]))
            state = env.get_state()
            drew = state.blocks[-1][2] == 0 or len(state.cave) > cave
            shown = slice(0, 4) if drew else slice(0, 7)
            assert np.array_equal(obs[j][shown], s_obs[shown]) and reward[j] == s_reward
            live[j] = not (drew or s_terminated) and blocks >= 1


def test_make_vec_with_the_vector_entry_point():
    env = gymnasium.make_vec("Pixelcopter-PLE-v0", num_envs=8, vectorization_mode="vector_entry_point")
    assert isinstance(env, PixelcopterVectorEnv)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert env.metadata["render_fps"] == 30
    obs, info = env.reset(seed=0)
    assert obs.shape == (8, 7) and obs.dtype == np.float32
    assert env.single_observation_space.contains(obs[0])
    assert env.action_space.shape == (8,)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert obs.shape == (8, 7) and reward.shape == terminated.shape == truncated.shape == (8,)
    with pytest.raises(ValueError):
        env.step(np.full(8, 2))
    env.close()


def test_next_step_autoreset():
    env = PixelcopterVectorEnv(num_envs=3)
    env.reset(seed=1)
    ended = np.zeros(3, dtype=bool)
    for _ in range(40):  # always thrusting: every copy hits the ceiling within a few frames
        obs, reward, terminated, truncated, _ = env.step(np.zeros(3, dtype=np.int64))
        # The step after a copy's last one restarts it: its action is ignored, reward 0,
        # not done, and it shows the first observation of a new level.
        assert (reward[ended] == 0).all() and not terminated[ended].any() and not truncated[ended].any()
        assert (obs[ended, :2] == [24, 0]).all()
        assert all(env.get_state(i).frame == 0 for i in np.flatnonzero(ended))
        assert (reward[terminated] <= -4).all()
        ended = terminated
        if ended.all():
            break
    assert ended.any()


def test_time_limit_truncates():
    env = gymnasium.make_vec(
        "Pixelcopter-PLE-v0", num_envs=4, vectorization_mode="vector_entry_point", max_episode_steps=5
    )
    env.reset(seed=0)
    pilot = PixelcopterHeuristic()
    obs = env.reset(seed=0)[0]
    for _ in range(5):
        obs, _, terminated, truncated, _ = env.step(pilot.predict(obs)[0])
    assert truncated.all() and not terminated.any()


def run(env: PixelcopterVectorEnv, seed: int, steps: int = 200) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    actions = np.random.default_rng(1).integers(0, 2, (steps, env.num_envs))
    trace = [obs]
    for a in actions:
        trace.append(env.step(a)[0])
    return np.array(trace)


def test_vector_seeding_is_reproducible():
    assert np.array_equal(run(PixelcopterVectorEnv(16), 3), run(PixelcopterVectorEnv(16), 3))
    assert not np.array_equal(run(PixelcopterVectorEnv(16), 3), run(PixelcopterVectorEnv(16), 4))


def test_reading_or_rendering_the_state_draws_nothing():
    quiet, watched = PixelcopterVectorEnv(4), PixelcopterVectorEnv(4, render_mode="rgb_array")
    a, b = quiet.reset(seed=9)[0], watched.reset(seed=9)[0]
    rng = np.random.default_rng(2)
    for _ in range(100):
        frames = watched.render()
        assert len(frames) == 4 and frames[0].shape == (48, 48, 3)
        [watched.get_state(i) for i in range(4)]
        actions = rng.integers(0, 2, 4)
        a, b = quiet.step(actions)[0], watched.step(actions)[0]
        assert np.array_equal(a, b)


def test_vector_levels_look_like_the_originals():
    """Distributions of the first observation over many levels: same ranges as the original."""
    env = PixelcopterVectorEnv(4000)
    obs, _ = env.reset(seed=0)
    assert set(np.unique(obs[:, 4])) == set(range(32, 56))  # block x 48..71, minus 16
    assert set(np.unique(obs[:, 5])) == set(range(12, 36))
    assert (obs[:, 2] == 7).all()  # the column under the player starts at height 29
