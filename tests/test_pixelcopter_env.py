"""Pixelcopter single env: bit-exact replay of the reference trajectories, gymnasium API,
seeding, options, rendering and registration."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import zoo.envs.pixelcopter  # noqa: F401  (registers the gymnasium ids)
from zoo.envs.ple import pixels
from zoo.envs.ple.pixelcopter import game
from zoo.envs.ple.pixelcopter.env import PixelcopterEnv
from zoo.envs.ple.pixelcopter.observation import observation_bounds

#: The reference files (tests/data/pixelcopter/, see its PROTOCOL.md).
FIXTURES = sorted((Path(__file__).parent / "data" / "pixelcopter").glob("seed_*.json.gz"))
POLICIES = ("random", "noop", "hover", "lookahead", "crash")


def test_the_fixtures_are_all_there():
    assert [p.name for p in FIXTURES] == [f"seed_{s}.json.gz" for s in (0, 1, 2, 24, 3)]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name.split(".")[0])
@pytest.mark.parametrize("policy", POLICIES)
def test_replaying_recorded_actions_reproduces_every_step_exactly(path, policy, load_fixture, bits):
    """Through gymnasium.make, as course code would: levels, spawns, observations (float64
    bits and the float32 the env returns), rewards and terminations, three consecutive
    episodes per run (the random stream carries over, draws on terminal frames included)."""
    data = load_fixture(path)
    env = gymnasium.make("Pixelcopter-PLE-v0")
    game_env = env.unwrapped
    for episode in data["policies"][policy]["episodes"]:
        obs, info = env.reset(seed=data["seed"] if episode["index"] == 0 else None)
        level = episode["level"]
        state = game_env.get_state()
        assert state.blocks == [(*level["block"], 0)]
        assert state.cave == [c for _, c in level["columns"]]
        assert bits(game_env.observation64()) == bits(episode["initial_obs"])
        assert obs.dtype == np.float32 and np.array_equal(obs, np.float32(episode["initial_obs"]))

        spawns = {(s["step_index"], "block" if "block" in s else "terrain"): s for s in episode["spawns"]}
        for i, action in enumerate(episode["actions"]):
            blocks_before = len(game_env.get_state().blocks)
            obs, reward, terminated, truncated, _ = env.step(action)
            where = f"{path.name} {policy} episode {episode['index']} step {i}"
            assert bits(game_env.observation64()) == bits(episode["obs"][i]), where
            assert np.array_equal(obs, np.float32(episode["obs"][i])), where
            assert reward == episode["rewards"][i], where
            assert terminated == episode["game_over"][i] and not truncated, where
            state = game_env.get_state()
            if (i, "block") in spawns:
                assert state.blocks[-1] == (*spawns[i, "block"]["block"], 0), where
            else:
                assert state.blocks[-1][2] > 0 or len(state.blocks) < blocks_before, where
            if (i, "terrain") in spawns:
                assert state.cave[-48:] == [c for _, c in spawns[i, "terrain"]["terrain"]["columns"]], where
        assert terminated == episode["terminated"]
        assert len(episode["actions"]) == episode["length"]
    env.close()


def test_fixture_observations_lie_within_the_observation_space(load_fixture):
    low, high = observation_bounds()
    for path in FIXTURES:
        for policy in load_fixture(path)["policies"].values():
            for episode in policy["episodes"]:
                obs = np.array([episode["initial_obs"], *episode["obs"]])
                assert (obs >= low).all() and (obs <= high).all()


def test_random_stream_matches_numpy_random_state():
    for seed in (0, 1, 24, 2**32 - 1):
        stream, reference = game.RandomStream(seed), np.random.RandomState(seed)
        for _ in range(200):
            assert stream.randint(48, 72) == reference.randint(48, 72)
            assert stream.randint(12, 36) == reference.randint(12, 36)
            assert stream.uniform(-0.01, 0.01) == reference.uniform(-0.01, 0.01)
            assert np.array_equal(stream.uniform(0.0, 0.5, 48), reference.uniform(0.0, 0.5, 48))


def test_round_half_away_from_zero():
    values = [0.5, 1.5, 2.5, -0.5, -1.5, 0.49999999999999994, 13.499999999999998, 17.5, -3.2, 3.7]
    assert [pixels.round_half_away(v) for v in values] == [1, 2, 3, -1, -2, 0, 13, 18, -3, 4]
    assert pixels.round_half_away_array(np.array(values)).tolist() == [1, 2, 3, -1, -2, 0, 13, 18, -3, 4]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"render_mode": "rgb_array"}, {"normalize": True, "block_edges": True}, {"max_episode_steps": 50}],
    ids=["default", "rgb_array", "deviations", "time-limit"],
)
def test_check_env_passes_without_any_warning(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # The raw env, as gymnasium recommends, but made through its id so it has a spec
        # (check_env then also tries the other render modes).
        env = gymnasium.make("Pixelcopter-PLE-v0", **kwargs).unwrapped
        check_env(env)
        env.close()


def play(env, seed: int, steps: int = 400) -> list:
    """Observations and rewards of a seeded run with fixed pseudo-random actions."""
    actions = np.random.default_rng(0).integers(0, 2, steps)
    obs, _ = env.reset(seed=seed)
    trace = [obs.tolist()]
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(int(a))
        trace.append((obs.tolist(), reward, terminated))
        if terminated or truncated:
            obs, _ = env.reset()
            trace.append(obs.tolist())
    return trace


def test_same_seed_same_episodes_and_different_seeds_differ():
    assert play(PixelcopterEnv(), 7) == play(gymnasium.make("Pixelcopter-PLE-v0"), 7)
    assert play(PixelcopterEnv(), 7) != play(PixelcopterEnv(), 8)


def test_reset_without_seed_continues_the_stream():
    env = PixelcopterEnv()
    first = env.reset(seed=3)[0]
    second = env.reset()[0]
    again = PixelcopterEnv()
    assert np.array_equal(again.reset(seed=3)[0], first) and np.array_equal(again.reset()[0], second)


def test_course_seed_24_first_levels():
    """The spec's worked example, and gym-games v2's reset(seed=3) (its second level)."""
    env = PixelcopterEnv()
    assert env.reset(seed=24)[0].tolist() == [24.0, 0.0, 7.0, 17.0, 34.0, 15.0, 24.0]
    env.reset(seed=3)
    assert env.reset()[0].tolist() == [24.0, 0.0, 7.0, 17.0, 48.0, 13.0, 22.0]


def test_spaces_metadata_and_actions():
    env = gymnasium.make("Pixelcopter-PLE-v0")
    assert env.observation_space.shape == (7,) and env.observation_space.dtype == np.float32
    assert env.action_space == gymnasium.spaces.Discrete(2)
    assert env.metadata["render_fps"] == 30
    env.reset(seed=0)
    with pytest.raises(ValueError):
        env.unwrapped.step(2)


def test_always_thrusting_hits_the_ceiling_and_no_op_the_floor():
    env = PixelcopterEnv()
    env.reset(seed=0)
    for _ in range(30):
        obs, reward, terminated, _, _ = env.step(0)
        if terminated:
            break
    assert terminated and reward <= -4 and obs[2] <= game.PLAYER_SIZE
    env.reset(seed=0)
    for _ in range(30):
        obs, reward, terminated, _, _ = env.step(1)
        if terminated:
            break
    assert terminated and obs[3] <= 0


def test_stepping_after_the_end_repeats_the_last_observation_with_reward_zero():
    env = PixelcopterEnv()
    env.reset(seed=0)
    terminated = False
    while not terminated:
        obs, _, terminated, _, _ = env.step(1)
    again, reward, terminated, truncated, _ = env.step(0)
    assert np.array_equal(again, obs) and reward == 0.0 and terminated and not truncated


def test_deviation_options():
    plain, normalized = PixelcopterEnv(), PixelcopterEnv(normalize=True)
    edges, limited = PixelcopterEnv(block_edges=True), PixelcopterEnv(max_episode_steps=5)
    obs = plain.reset(seed=1)[0]
    assert np.allclose(normalized.reset(seed=1)[0], obs * np.array([1, 30, 1, 1, 1, 1, 1]) / 48)
    edge_obs = edges.reset(seed=1)[0]
    assert edge_obs[5] == obs[5] - 4.5 and edge_obs[6] == obs[5] + 4.5
    limited.reset(seed=1)
    outcomes = [limited.step(0 if i % 4 == 0 else 1)[2:4] for i in range(5)]
    assert outcomes[-1] == (False, True) and all(o == (False, False) for o in outcomes[:-1])


def test_rgb_array_frames():
    env = gymnasium.make("Pixelcopter-PLE-v0", render_mode="rgb_array")
    env.reset(seed=24)
    frame = env.render()
    assert frame.shape == (48, 48, 3) and frame.dtype == np.uint8
    assert (frame[23:25, 15:17] == 255).all()  # the helicopter, rows 23-24 at y = 24
    assert (frame[0, 0] == (120, 240, 80)).all() and (frame[24, 30] == 0).all()  # wall, open cave
    big = PixelcopterEnv(render_mode="rgb_array", render_scale=4)
    big.reset(seed=24)
    scaled = big.render()
    assert scaled.shape == (192, 192, 3) and np.array_equal(scaled[::4, ::4], frame)


def test_human_render_opens_a_window_headless():
    env = gymnasium.make("Pixelcopter-PLE-v0", render_mode="human")
    env.reset(seed=0)
    env.step(1)
    assert env.render() is None
    env.close()


def test_ids_registered_on_import_and_in_module_form():
    for env_id in ("zoo/Pixelcopter-v0", "Pixelcopter-PLE-v0"):
        assert gymnasium.spec(env_id).entry_point == "zoo.envs.ple.pixelcopter.env:PixelcopterEnv"
    env = gymnasium.make("zoo.envs.pixelcopter:Pixelcopter-PLE-v0")
    assert isinstance(env.unwrapped, PixelcopterEnv)


def test_zoo_plugin_registers_the_env_and_its_hardcoded_policy():
    from zoo.plugin_loader import discover_plugins

    loaded = discover_plugins()
    entry = loaded.envs.get("pixelcopter")
    assert entry.gym_id == "zoo/Pixelcopter-v0" and entry.aliases == ("Pixelcopter-PLE-v0",)
    assert loaded.envs.get("Pixelcopter-PLE-v0") is entry
    assert entry.hardcoded["default"] == "zoo.envs.ple.pixelcopter.heuristic:PixelcopterHeuristic"
    assert entry.reward_threshold == 30.0
