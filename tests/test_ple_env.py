"""The PLE family's single envs (Catcher, FlappyBird, Pong, PuckWorld): bit-exact replay of the
reference trajectories, the gymnasium API and checkers, seeding, rendering and registration.
(Pixelcopter has its own tests, test_pixelcopter_*.py.)"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import zoo.envs.ple  # noqa: F401  (registers the gymnasium ids)
from zoo.envs.ple import rng
from zoo.envs.ple.catcher.env import CatcherEnv, normalized
from zoo.envs.ple.flappybird.env import FlappyBirdEnv
from zoo.envs.ple.games import GAMES as FAMILY

#: The games tested here (Pixelcopter has its own tests), and gym-games' id of each.
GAMES = tuple(entry.name for entry in FAMILY if entry.name != "pixelcopter")
COURSE_IDS = {entry.name: entry.course_id for entry in FAMILY}

POLICIES = ("random", "noop", "heuristic")
#: Steps in the shared fixtures (seeds 0, 1, 2 x 3 policies x 3 episodes), per game.
FIXTURE_STEPS = {"catcher": 21_219, "flappybird": 9_488, "pong": 27_570, "puckworld": 54_000}


def test_the_fixtures_are_all_there(fixture_paths, load_fixture):
    for game in GAMES:
        assert [p.name for p in fixture_paths(game)] == [f"seed_{s}.json.gz" for s in (0, 1, 2)]
        steps = sum(e["length"] for p in fixture_paths(game)
                    for run in load_fixture(p)["policies"].values() for e in run["episodes"])
        assert steps == FIXTURE_STEPS[game]


@pytest.mark.parametrize("game", GAMES)
@pytest.mark.parametrize("seed", (0, 1, 2))
@pytest.mark.parametrize("policy", POLICIES)
def test_replaying_recorded_actions_reproduces_every_step_exactly(game, seed, policy, fixture_paths, replay_run):
    """Through gymnasium.make(gym-games' id): reset(seed=s) then two reset()s on the same stream;
    every stored state row (info["state"], float64 bits), gym-games' float32 observation, every
    reward, game-over flag and each episode's SHA-256 digest over all its steps."""
    path = fixture_paths(game)[seed]
    assert replay_run(game, path, policy) > 0


def test_the_zoo_id_is_the_same_env(fixture_paths, replay_run):
    path = fixture_paths("catcher")[0]
    replay_run("catcher", path, "random", env_id="zoo/Catcher-v0")


def test_random_stream_matches_numpy_random_state():
    for seed in (0, 1, 24, 2**32 - 1):
        stream, reference = rng.RandomStream(seed), np.random.RandomState(seed)
        for _ in range(300):
            assert stream.choice(range(8, 56, 4)) == reference.choice(range(8, 56, 4))
            assert stream.choice(("red", "blue", "yellow")) == reference.choice(["red", "blue", "yellow"])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # random_integers is deprecated
                assert stream.random_integers(25, 192) == reference.random_integers(25, 192)
            assert stream.random_sample() == reference.random_sample()
            assert stream.uniform(9, 56.5) == reference.uniform(9, 56.5)


def test_catcher_normalisation_is_gym_games_float32_arithmetic(fixture_paths, load_fixture, gym_games_observation):
    """Computed in float64 and rounded once, it equals gym-games' float32 arithmetic on every
    reachable state: all paddle and fruit positions, and velocities from long random plays."""
    xs, fruit_xs, fruit_ys = np.arange(0, 52), np.arange(8, 53, 4), np.arange(-28, 65)
    velocities = [row[1] for p in fixture_paths("catcher") for run in load_fixture(p)["policies"].values()
                  for e in run["episodes"] for row in e["obs"]]
    velocities += list(np.random.default_rng(0).uniform(-12.1, 12.1, 5000))
    n = max(len(xs), len(fruit_xs), len(fruit_ys), len(velocities))
    states = np.stack([np.resize(xs, n), np.resize(velocities, n), np.resize(fruit_xs, n), np.resize(fruit_ys, n)], 1)
    for state in states:
        ours = np.array(normalized(state.tolist()), dtype=np.float32)
        assert ours.tobytes() == gym_games_observation("catcher", state).tobytes()


@pytest.mark.parametrize("game", GAMES)
def test_fixture_states_lie_within_the_observation_space(game, fixture_paths, load_fixture, gym_games_observation):
    env = gymnasium.make(COURSE_IDS[game])
    space = env.observation_space
    for path in fixture_paths(game):
        for run in load_fixture(path)["policies"].values():
            for episode in run["episodes"]:
                for row in (episode["initial_obs"], *episode["obs"]):
                    assert space.contains(gym_games_observation(game, row)), (path.name, row)


CHECKS = [(game, {}) for game in GAMES] + [
    ("catcher", {"normalize": False}),
    ("catcher", {"render_mode": "rgb_array"}),
    ("flappybird", {"render_mode": "rgb_array"}),
    ("pong", {"render_mode": "rgb_array", "max_episode_steps": 20}),
    ("puckworld", {"render_mode": "rgb_array"}),
]


@pytest.mark.parametrize(("game", "kwargs"), CHECKS, ids=[f"{g}-{'-'.join(k) or 'default'}" for g, k in CHECKS])
def test_gymnasium_check_env_passes_without_any_warning(game, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gymnasium.make(COURSE_IDS[game], **kwargs).unwrapped
        check_env(env)
        env.close()


@pytest.mark.parametrize("game", GAMES)
def test_sb3_check_env_passes_without_any_warning(game):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gymnasium.make(COURSE_IDS[game])
        sb3_check_env(env)
        env.close()


def play(env: gymnasium.Env, seed: int, steps: int = 600) -> list:
    """Observations and rewards of a seeded run with fixed pseudo-random actions."""
    actions = np.random.default_rng(0).integers(0, env.action_space.n, steps)
    obs, _ = env.reset(seed=seed)
    trace = [obs.tolist()]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(int(a))
        trace.append((obs.tolist(), reward, terminated, info["state"].tolist()))
        if terminated or truncated:
            obs, _ = env.reset()
            trace.append(obs.tolist())
    return trace


@pytest.mark.parametrize("game", GAMES)
def test_same_seed_same_episodes_and_different_seeds_differ(game):
    make = lambda: gymnasium.make(COURSE_IDS[game], max_episode_steps=300)  # noqa: E731
    assert play(make(), 7) == play(make(), 7)
    assert play(make(), 7) != play(make(), 8)


@pytest.mark.parametrize("game", GAMES)
def test_reset_without_seed_continues_the_stream_and_without_any_seed_is_seeded_by_gymnasium(game):
    env = gymnasium.make(COURSE_IDS[game]).unwrapped
    first, second = env.reset(seed=3)[1]["state"], env.reset()[1]["state"]
    again = gymnasium.make(COURSE_IDS[game]).unwrapped
    assert np.array_equal(again.reset(seed=3)[1]["state"], first)
    assert np.array_equal(again.reset()[1]["state"], second)
    unseeded = gymnasium.make(COURSE_IDS[game]).unwrapped
    unseeded.reset()
    assert unseeded.step(0)[4]["state"].shape == first.shape


def test_flappybird_keeps_the_velocity_across_resets_but_not_across_seeds():
    env = FlappyBirdEnv()
    env.reset(seed=0)
    terminated = False
    while not terminated:
        _, _, terminated, _, info = env.step(1)
    final_velocity = info["state"][1]
    assert final_velocity == 10.0
    assert env.reset()[1]["state"][1] == final_velocity  # reset_game keeps it (the fixtures' 19-step no-op)
    assert env.reset(seed=0)[1]["state"][1] == 0.0  # a fresh game starts at rest


@pytest.mark.parametrize("game", GAMES)
def test_spaces_metadata_and_bad_actions(game):
    env = gymnasium.make(COURSE_IDS[game])
    n = {"catcher": 3, "flappybird": 2, "pong": 3, "puckworld": 5}[game]
    assert env.action_space == gymnasium.spaces.Discrete(n)
    assert env.observation_space.dtype == np.float32 and np.isfinite(env.observation_space.low).all()
    assert env.metadata["render_fps"] == 30
    env.reset(seed=0)
    for bad in (n, -1, 0.5):
        with pytest.raises(ValueError):
            env.unwrapped.step(bad)


@pytest.mark.parametrize("game", ["catcher", "flappybird", "pong"])
def test_stepping_after_the_end_repeats_the_state_with_reward_zero(game):
    env = gymnasium.make(COURSE_IDS[game]).unwrapped
    env.reset(seed=0)
    noop = env.action_space.n - 1
    terminated = False
    while not terminated:
        obs, _, terminated, _, info = env.step(noop)
    again, reward, terminated, truncated, again_info = env.step(0)
    assert np.array_equal(again, obs) and reward == 0.0 and terminated and not truncated
    assert np.array_equal(again_info["state"], info["state"])


def test_options_catcher_raw_observation_and_time_limit():
    raw, default = CatcherEnv(normalize=False), CatcherEnv()
    obs, info = raw.reset(seed=0)
    assert obs.tolist() == [26.0, 0.0, 28.0, -4.0] and info["state"].tolist() == obs.tolist()
    assert default.reset(seed=0)[0].tolist() == np.float32([0.0, 0.0, 2 / 26, -24 / 45]).tolist()
    limited = CatcherEnv(max_episode_steps=3)
    limited.reset(seed=0)
    assert [limited.step(2)[3] for _ in range(3)] == [False, False, True]


FRAME_SHAPES = {"catcher": (64, 64, 3), "flappybird": (512, 288, 3), "pong": (48, 64, 3), "puckworld": (64, 64, 3)}


@pytest.mark.parametrize("game", GAMES)
def test_rgb_array_frames_are_numpy_drawings_of_the_state(game):
    env = gymnasium.make(COURSE_IDS[game], render_mode="rgb_array")
    env.reset(seed=1)
    frames = [env.render()]
    for _ in range(20):
        env.step(env.action_space.n - 1)
        frames.append(env.render())
    assert all(f.shape == FRAME_SHAPES[game] and f.dtype == np.uint8 for f in frames)
    assert any(not np.array_equal(frames[0], f) for f in frames[1:])  # something moves
    big = gymnasium.make(COURSE_IDS[game], render_mode="rgb_array", render_scale=2)
    big.reset(seed=1)
    assert np.array_equal(big.render()[::2, ::2], frames[0])


def test_catcher_frame_shows_paddle_and_fruit_where_the_state_says():
    env = CatcherEnv(render_mode="rgb_array")
    env.reset(seed=0)
    for _ in range(10):
        env.step(2)  # the fruit (x 28) falls to y = -4 + 20 = 16; the paddle stays at x 26
    frame = env.render()
    assert (frame[57:60, 20:33] == 255).all() and (frame[14:18, 26:30] == (255, 120, 120)).all()


@pytest.mark.parametrize("game", GAMES)
def test_human_render_opens_a_window_headless(game):
    env = gymnasium.make(COURSE_IDS[game], render_mode="human")
    env.reset(seed=0)
    env.step(0)
    assert env.render() is None
    env.close()


@pytest.mark.parametrize("game", GAMES)
def test_ids_registered_on_import_and_in_module_form(game):
    title = COURSE_IDS[game].removesuffix("-PLE-v0")
    for env_id in (f"zoo/{title}-v0", f"{title}-PLE-v0"):
        spec = gymnasium.spec(env_id)
        assert spec.entry_point.startswith(f"zoo.envs.ple.{game}.env:") and spec.max_episode_steps is None
    env = gymnasium.make(f"zoo.envs.ple:{title}-PLE-v0")
    assert type(env.unwrapped).__module__ == f"zoo.envs.ple.{game}.env"


def test_the_zoo_plugin_registers_the_whole_family():
    from zoo.plugin_loader import discover_plugins

    loaded = discover_plugins()
    assert loaded.plugin("ple").error is None
    for game in (*GAMES, "pixelcopter"):
        entry = loaded.envs.get(game)
        title = entry.gym_id.removeprefix("zoo/").removesuffix("-v0")
        assert entry.plugin == "ple" and entry.aliases == (f"{title}-PLE-v0",)
        assert loaded.envs.get(f"{title}-PLE-v0") is entry
        assert entry.hardcoded["default"].startswith(f"zoo.envs.ple.{game}.heuristic:")


# -- issue 23, item 19: one action rule for every game ----------------------------------------------------
#: Candidate actions: integers of any kind are actions; floats, bools, strings, arrays of a shape are not.
ACTIONS = (1, 0, np.int64(1), np.uint8(1), np.int32(0), np.array(1), 1.0, np.float32(1), True, np.True_, [[1]],
           [1], np.array([1]), "1", None, -1, 99)


@pytest.mark.parametrize("game", [entry.name for entry in FAMILY])
def test_every_single_env_takes_what_its_batched_env_takes_one_of(game):
    entry = next(e for e in FAMILY if e.name == game)
    single = gymnasium.make(entry.course_id).unwrapped
    batched = gymnasium.make_vec(entry.course_id, num_envs=1, vectorization_mode="vector_entry_point")
    single.reset(seed=0)
    batched.reset(seed=0)
    n = single.action_space.n
    for action in ACTIONS:
        try:
            batched.step(np.asarray([action]))
            batched_takes = True
        except ValueError:
            batched_takes = False
        try:
            single.step(action)
            single_takes = True
        except ValueError as exc:
            message = str(exc)
            assert "\n" not in message and f"0..{n - 1}" in message and repr(action)[:20] in message, message
            single_takes = False
        assert single_takes == batched_takes, (action, single_takes)
        # gymnasium's Discrete agrees, except that it takes Python's True for 1 (a bool is not an action here).
        if not isinstance(action, bool):
            assert single_takes == single.action_space.contains(action), action
    assert not batched.single_action_space.contains(np.True_)
