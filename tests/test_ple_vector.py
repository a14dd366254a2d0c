"""The PLE family's vector envs (Catcher, FlappyBird, Pong, PuckWorld): the same dynamics as the
single envs (transition by transition, from shared states), gymnasium's vector API, NEXT_STEP
autoreset, seeding and rendering."""

from __future__ import annotations

import functools
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import zoo.envs.ple  # noqa: F401  (registers the gymnasium ids)
from zoo.envs.ple.games import GAMES as FAMILY

#: The games tested here (Pixelcopter has its own tests), and gym-games' id of each.
GAMES = tuple(entry.name for entry in FAMILY if entry.name != "pixelcopter")
COURSE_IDS = {entry.name: entry.course_id for entry in FAMILY}

#: What a transition's random draws set: state fields, and the observation entries showing them.
DRAWN = {
    "catcher": (("fruit_x", "fruit_y"), [2, 3]),
    "flappybird": (("pipe_gaps",), [3, 4, 6, 7]),
    "pong": (("ball_vy",), [6]),
    "puckworld": (("creep_x", "creep_y"), [4, 5]),
}


def make_single(game: str, **kwargs) -> gymnasium.Env:
    env = gymnasium.make(COURSE_IDS[game], **kwargs).unwrapped
    env.reset(seed=0)
    return env


def make_vector(game: str, num_envs: int, **kwargs) -> gymnasium.vector.VectorEnv:
    return gymnasium.make_vec(COURSE_IDS[game], num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)


@pytest.fixture(scope="module")
def fixture_states(fixture_paths, load_fixture):
    """``fixture_states(game, every=7) -> (states, actions)``, computed once per game."""

    @functools.cache
    def states_along_the_reference_runs(game: str, every: int = 7) -> tuple[list, list]:
        """Single-env states (and the recorded next action) along the reference runs: every
        `every`-th step, and the last few of each episode (deaths, points)."""
        env = make_single(game)
        states, actions = [], []
        for path in fixture_paths(game):
            data = load_fixture(path)
            for run in data["policies"].values():
                for episode in run["episodes"]:
                    env.reset(seed=data["seed"] if episode["index"] == 0 else None)
                    n = len(episode["actions"])
                    for i, action in enumerate(episode["actions"]):
                        if i % every == 0 or i >= n - 4 or (game == "puckworld" and i % 500 == 499):
                            states.append(env.get_state())
                            actions.append(action)
                        env.step(action)
        return states, actions

    return states_along_the_reference_runs


def assert_same_transition(game, single, before, action, obs, reward, terminated, vector_after) -> bool:
    """Step the single env from `before`; compare with what the vector env did (all but the values
    just drawn at random). Returns whether the transition drew."""
    single.set_state(before)
    marker = single._rng.words_drawn_marker()
    s_obs, s_reward, s_terminated, _, _ = single.step(action)
    drew = single._rng.words_drawn_marker() != marker
    drawn_fields, drawn_entries = DRAWN[game]
    shown = [i for i in range(len(obs)) if not (drew and i in drawn_entries)]
    where = (game, before, action)
    assert np.array_equal(obs[shown], s_obs[shown]), where
    assert (reward, terminated) == (s_reward, s_terminated), where
    after = single.get_state()
    assert after.pop("over") == s_terminated  # the vector's "over" also counts truncation
    for name, value in after.items():
        if not (drew and name in drawn_fields):
            assert vector_after[name] == value, (name, *where)
    return drew


@pytest.mark.parametrize("game", GAMES)
def test_same_state_same_transition_along_the_reference_runs(game, fixture_states):
    states, actions = fixture_states(game)
    vector = make_vector(game, len(states)).unwrapped
    vector.reset(seed=0)
    for i, state in enumerate(states):
        vector.set_state(i, state)
    obs, reward, terminated, truncated, _ = vector.step(np.array(actions))
    assert not truncated.any()
    single = make_single(game)
    events = {"terminal": 0, "draw": 0, "reward": 0}
    for i, (state, action) in enumerate(zip(states, actions)):
        drew = assert_same_transition(game, single, state, action, obs[i], reward[i], terminated[i],
                                      vector.get_state(i))
        events["terminal"] += bool(terminated[i])
        events["draw"] += drew
        events["reward"] += reward[i] != 0
    assert events["draw"] > 5 and events["reward"] > 5, events
    assert game == "puckworld" or events["terminal"] > 5, events


@pytest.mark.parametrize("game", GAMES)
def test_vector_episodes_replayed_by_the_single_env(game):
    """The vector env's own episodes (random actions, autoresets included): from every copy's
    state, the single env makes the same next step."""
    n = 16
    vector = make_vector(game, n, max_episode_steps=400).unwrapped
    vector.reset(seed=11)
    single = make_single(game)
    rng = np.random.default_rng(3)
    for _ in range(600):
        actions = rng.integers(0, vector.single_action_space.n, n)
        before = [vector.get_state(i) for i in range(n)]
        obs, reward, terminated, truncated, _ = vector.step(actions)
        for i in range(n):
            if before[i]["over"]:  # this step restarted copy i
                continue
            assert_same_transition(game, single, before[i], int(actions[i]), obs[i], reward[i], terminated[i],
                                   vector.get_state(i))


def test_catcher_options_give_the_single_envs_observations(fixture_states):
    states, actions = fixture_states("catcher")
    vector = make_vector("catcher", len(states), normalize=False).unwrapped
    vector.reset(seed=0)
    for i, state in enumerate(states):
        vector.set_state(i, state)
    obs, reward, terminated, _, _ = vector.step(np.array(actions))
    single = make_single("catcher", normalize=False)
    for i, (state, action) in enumerate(zip(states, actions)):
        assert_same_transition("catcher", single, state, action, obs[i], reward[i], terminated[i], vector.get_state(i))


@pytest.mark.parametrize("game", GAMES)
def test_make_vec_with_the_vector_entry_point(game):
    env = make_vector(game, 8)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP and env.metadata["render_fps"] == 30
    assert type(env).__module__ == f"zoo.envs.ple.{game}.vector_env"
    obs, info = env.reset(seed=0)
    size = env.single_observation_space.shape[0]
    assert obs.shape == (8, size) and obs.dtype == np.float32 and env.single_observation_space.contains(obs[0])
    assert env.single_action_space == gymnasium.make(COURSE_IDS[game]).action_space
    for _ in range(50):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert obs.shape == (8, size) and reward.shape == terminated.shape == truncated.shape == (8,)
        assert all(env.single_observation_space.contains(o) for o in obs)
    for bad in (np.full(8, env.single_action_space.n), np.full(8, -1), np.zeros(7, dtype=np.int64), np.zeros(8)):
        with pytest.raises(ValueError):
            env.step(bad)
    env.close()


@pytest.mark.parametrize("game", ["catcher", "flappybird", "pong"])
def test_next_step_autoreset(game):
    env = make_vector(game, 6).unwrapped
    env.reset(seed=1)
    noop = env.single_action_space.n - 1
    ended, restarted = np.zeros(6, dtype=bool), 0
    for _ in range(3000):
        obs, reward, terminated, truncated, _ = env.step(np.full(6, noop))
        # The step after a copy's last one restarts it: reward 0, not done, a first observation.
        assert (reward[ended] == 0).all() and not terminated[ended].any() and not truncated[ended].any()
        assert all(env._steps[i] == 0 for i in np.flatnonzero(ended))
        restarted += ended.sum()
        ended = terminated
    assert restarted > 6


def test_flappybird_vector_keeps_the_velocity_across_autoresets():
    env = make_vector("flappybird", 4).unwrapped
    obs, _ = env.reset(seed=0)
    assert (obs[:, 1] == 0).all()
    done = np.zeros(4, dtype=bool)
    while not done.all():
        obs, _, terminated, _, _ = env.step(np.ones(4, dtype=np.int64))
        done |= terminated
        last = np.where(terminated, obs[:, 1], np.nan)
        if terminated.any():
            restarted, _, _, _, _ = env.step(np.ones(4, dtype=np.int64))
            assert (restarted[terminated, 1] == last[terminated]).all() and (last[terminated] == 10).all()
            break


def test_pong_fresh_games_start_alike_and_later_episodes_serve_randomly():
    env = make_vector("pong", 50).unwrapped
    obs, _ = env.reset(seed=4)
    assert (obs == np.float32([24, 0, 24, 32, 24, 36, -36])).all()
    obs, _ = env.reset()  # the next episode: a random serve
    assert set(obs[:, 5]) == {-36.0, 36.0} and len(set(obs[:, 6])) == 50 and (np.abs(obs[:, 6]) <= 18).all()


def test_time_limit_truncates():
    env = make_vector("puckworld", 4, max_episode_steps=5)
    env.reset(seed=0)
    for _ in range(5):
        _, _, terminated, truncated, _ = env.step(np.full(4, 4))
    assert truncated.all() and not terminated.any()


def run(env, seed: int, steps: int = 200) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    actions = np.random.default_rng(1).integers(0, env.single_action_space.n, (steps, env.num_envs))
    return np.array([obs] + [env.step(a)[0] for a in actions])


@pytest.mark.parametrize("game", GAMES)
def test_vector_seeding_is_reproducible(game):
    assert np.array_equal(run(make_vector(game, 16), 3), run(make_vector(game, 16), 3))
    assert not np.array_equal(run(make_vector(game, 16), 3), run(make_vector(game, 16), 4))


@pytest.mark.parametrize("game", GAMES)
def test_reading_or_rendering_the_state_draws_nothing(game):
    quiet, watched = make_vector(game, 4), make_vector(game, 4, render_mode="rgb_array")
    a, b = quiet.reset(seed=9)[0], watched.reset(seed=9)[0]
    single_frame = gymnasium.make(COURSE_IDS[game], render_mode="rgb_array")
    single_frame.reset(seed=0)
    rng = np.random.default_rng(2)
    for _ in range(60):
        frames = watched.render()
        assert len(frames) == 4 and frames[0].shape == single_frame.render().shape
        [watched.unwrapped.get_state(i) for i in range(4)]
        actions = rng.integers(0, quiet.single_action_space.n, 4)
        a, b = quiet.step(actions)[0], watched.step(actions)[0]
        assert np.array_equal(a, b)
