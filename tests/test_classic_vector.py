"""The batched classic-control envs (zoo.envs.classic) against gymnasium's own: copy i of a batched
env reset with ``seed`` must be gymnasium's env reset with ``seed + i``, as
``gymnasium.make_vec(id, n, vectorization_mode="sync")`` builds it: observations, rewards,
terminated and truncated equal bit for bit (and in dtype) on every step, under the same actions,
across autoresets, time limits, resets with and without seeds, partial resets and reset options,
and with every action dtype and form the single env accepts.

The default run compares each env for thousands of steps (N = 1, 7 and 64) plus a few generated
schedules; ``pytest -m slow tests/test_classic_vector.py`` runs generated schedules at length
(60 per env, random each run, N up to 64, up to 8 events, runs of 200 to 1,500 steps).
"""

from __future__ import annotations

import copy
import os
import pickle

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo
from zoo.envs.classic.policies import AcrobotPump, MountainCarPump, MountainCarPush, PendulumSwingUp
from zoo.envs.classic.scalar_math import scalar_square

#: Each batched env: its gymnasium id, its hardcoded policy (which reaches the goals, the walls and
#: the terminal states that random actions rarely reach), and the reset options it understands.
ENVS = {
    "Acrobot-v1": (AcrobotPump, {"low": -0.3, "high": 0.25}),
    "MountainCar-v0": (MountainCarPush, {"low": -1.1, "high": 0.3}),
    "MountainCarContinuous-v0": (MountainCarPump, {"low": -1.19, "high": 0.2}),
    "Pendulum-v1": (PendulumSwingUp, {"x_init": 0.5, "y_init": 7.5}),
}
DISCRETE_DTYPES = ("int64", "int32", "int8", "uint8", "list")
CONTINUOUS_DTYPES = ("float32", "float64", "float16", "int64", "list")


def make_pair(env_id: str, n: int, **kwargs) -> tuple[gymnasium.vector.VectorEnv, gymnasium.vector.VectorEnv]:
    zoo.list_envs()  # loads the plugins: the classic plugin attaches the batched envs to gymnasium's ids
    batched = gymnasium.make_vec(env_id, n, vectorization_mode="vector_entry_point", **kwargs)
    assert type(batched).__module__.startswith("zoo.envs.classic.")
    return batched, gymnasium.make_vec(env_id, n, vectorization_mode="sync", **kwargs)


def assert_same(got: tuple, want: tuple, where: object) -> None:
    for name, a, b in zip(("observations", "rewards", "terminated", "truncated"), got, want):
        a, b = np.asarray(a), np.asarray(b)
        assert (a.dtype, a.shape) == (b.dtype, b.shape), (where, name, a.dtype, b.dtype)
        if a.tobytes() != b.tobytes():
            rows = sorted({int(i) for i in np.flatnonzero((a != b).reshape(len(a), -1).any(axis=1))})
            raise AssertionError(f"{where}: {name} differ in copies {rows}: {a[rows]} != {b[rows]}")


class Actor:
    """Actions for both envs: the env's hardcoded policy or uniformly random ones (beyond the
    bounds, for Box actions: the envs clip), in a given dtype or as Python lists."""

    def __init__(self, env_id: str, space: gymnasium.Space, seed: int) -> None:
        self.policy, self.space = ENVS[env_id][0](), space
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: np.ndarray, heuristic: float, dtype: str):
        n = len(obs)
        if isinstance(self.space, gymnasium.spaces.Discrete):
            actions = np.where(self.rng.random(n) < heuristic, self.policy.act(obs), self.rng.integers(0, 3, n))
        else:
            bound = float(self.space.high[0])
            noise = self.rng.uniform(-1.6 * bound, 1.6 * bound, (n, 1))
            noise[self.rng.random((n, 1)) < 0.05] = bound  # exactly on the bound: not clipped
            actions = np.where(self.rng.random((n, 1)) < heuristic, self.policy.act(obs).astype(np.float64), noise)
            if dtype == "int64":
                actions = np.rint(actions)
        return actions.tolist() if dtype == "list" else actions.astype(dtype)


def run_schedule(env_id: str, n: int, seed: int, schedule: list[tuple], **kwargs) -> tuple[int, int]:
    """Reset both envs with ``seed``, then play ``schedule`` on both, comparing every result.
    Events: ("steps", count, heuristic share, action dtype), ("reset", seed or None or a list),
    ("mask", bools, seed), ("options",). Returns how many episodes terminated and were truncated."""
    batched, sync = make_pair(env_id, n, **kwargs)
    actor = Actor(env_id, batched.single_action_space, seed)
    obs, _ = batched.reset(seed=seed)
    want, _ = sync.reset(seed=seed)
    assert_same((obs,), (want,), (env_id, n, seed, "reset"))
    terminated = truncated = 0
    for index, (kind, *args) in enumerate(schedule):
        where = (env_id, n, seed, index, kind, *args[:1])
        if kind == "steps":
            count, heuristic, dtype = args
            for t in range(count):
                actions = actor(obs, heuristic, dtype)
                got = batched.step(actions)
                assert_same(got[:4], sync.step(actions)[:4], (*where, t))
                obs = got[0]
                terminated += int(got[2].sum())
                truncated += int(got[3].sum())
            continue
        if kind == "reset":
            reset = {"seed": args[0]}
        elif kind == "mask":
            mask = np.array(args[0], dtype=bool)
            if not mask.any():
                continue
            reset = {"seed": args[1], "options": {"reset_mask": mask}}
        else:
            reset = {"options": dict(ENVS[env_id][1])}
        obs, _ = batched.reset(**reset)
        want, _ = sync.reset(**{k: (dict(v) if k == "options" else v) for k, v in reset.items()})
        assert_same((obs,), (want,), where)
    batched.close()
    sync.close()
    return terminated, truncated


# -- fixed schedules: thousands of steps per env ---------------------------------------------------------
@pytest.mark.parametrize("env_id", ENVS)
@pytest.mark.parametrize("n,seed,steps", [(1, 0, 3000), (7, 12345, 2500), (64, 2**31 - 100, 300)])
def test_each_copy_is_gymnasiums_env_seeded_seed_plus_i(env_id, n, seed, steps):
    dtypes = DISCRETE_DTYPES if env_id in ("Acrobot-v1", "MountainCar-v0") else CONTINUOUS_DTYPES
    dtypes = [d for d in dtypes if not (env_id == "MountainCar-v0" and d == "uint8")]  # see the test below
    dtypes += dtypes
    limit = gymnasium.spec(env_id).max_episode_steps
    first = min(limit + 5, steps // 2)  # random actions, long enough to reach the time limit if steps allow
    part = (steps - first) // 5
    schedule = [
        ("steps", first, 0.0, dtypes[0]),
        ("steps", part, 0.9, dtypes[1]),  # mostly the policy: terminations, walls, goals
        ("reset", None),  # mid-episode, without a seed: each copy's stream goes on
        ("steps", part, 0.5, dtypes[2]),
        ("mask", [i % 3 == 0 for i in range(n)], None),
        ("steps", part, 0.7, dtypes[3]),
        ("reset", seed + 7),
        ("options",),
        ("steps", part, 0.3, dtypes[4]),
        ("mask", [i % 2 == 1 for i in range(n)], [1000 + i for i in range(n)]),
        ("steps", steps - first - 4 * part, 0.95, dtypes[0]),
    ]
    terminated, truncated = run_schedule(env_id, n, seed, schedule)
    if first > limit:  # both kinds of ending happened, and were autoreset
        assert truncated >= n and (terminated > 0 or env_id == "Pendulum-v1"), (terminated, truncated)


def test_acrobots_other_dynamics_and_torque_noise_are_gymnasiums():
    """``book_or_nips = "nips"`` and ``torque_noise_max`` set on the env, as gymnasium's docs show
    for the single env; with noise, each copy draws from its own stream on every step."""
    for settings_ in ({"book_or_nips": "nips"}, {"torque_noise_max": 0.3}):
        batched, sync = make_pair("Acrobot-v1", 5)
        for name, value in settings_.items():
            setattr(batched.unwrapped, name, value)
            for env in sync.envs:
                setattr(env.unwrapped, name, value)
        actor = Actor("Acrobot-v1", batched.single_action_space, 4)
        obs, _ = batched.reset(seed=8)
        sync.reset(seed=8)
        for t in range(1200):
            actions = actor(obs, 0.8, "int64")
            got = batched.step(actions)
            assert_same(got[:4], sync.step(actions)[:4], (settings_, t))
            obs = got[0]


def test_a_copied_acrobot_steps_as_the_original():
    """The batched Acrobot computes in rows of one workspace array (named views of it): a deepcopy
    or pickle must get a workspace of its own whose views are still rows of one array."""
    batched, _ = make_pair("Acrobot-v1", 6)
    actor = Actor("Acrobot-v1", batched.single_action_space, 5)
    obs, _ = batched.reset(seed=2)
    copies = [copy.deepcopy(batched), pickle.loads(pickle.dumps(batched))]
    for t in range(300):
        actions = actor(obs, 0.8, "int64")
        want = batched.step(actions)
        for clone in copies:
            assert_same(clone.step(actions)[:4], want[:4], t)
        obs = want[0]


def test_pendulums_and_mountain_cars_options_are_gymnasiums():
    for env_id, kwargs in [("Pendulum-v1", {"g": 9.81}), ("MountainCar-v0", {"goal_velocity": 0.01}),
                           ("MountainCarContinuous-v0", {"goal_velocity": 0.02})]:
        run_schedule(env_id, 6, 3, [("steps", 400, 0.9, "float32" if "Cont" in env_id or "Pend" in env_id
                                     else "int64")], **kwargs)


def test_continuous_mountain_cars_float32_steps_are_gymnasiums(monkeypatch):
    """Training's actions, float32 and within the bounds, take ``_float32_physics`` on most steps
    (its conditions fail, and ``_physics`` steps, at the walls, the speed limit and episodes'
    first steps): both ways against gymnasium's env, to the goal and back."""
    from zoo.envs.classic.continuous_mountain_car import ContinuousMountainCarVectorEnv

    taken = []
    float32_physics = ContinuousMountainCarVectorEnv._float32_physics

    def counted(self, *args):
        stepped = float32_physics(self, *args)
        taken.append(stepped is not None)
        return stepped

    monkeypatch.setattr(ContinuousMountainCarVectorEnv, "_float32_physics", counted)
    n = 16
    batched, sync = make_pair("MountainCarContinuous-v0", n)
    policy, rng = MountainCarPump(), np.random.default_rng(5)
    obs, want = batched.reset(seed=11)[0], sync.reset(seed=11)[0]
    assert_same((obs,), (want,), "reset")
    terminated = 0
    for t in range(3000):
        if t == 1500:  # starts next to the left wall
            obs, want = batched.reset(options={"low": -1.19, "high": -1.1})[0], sync.reset(
                options={"low": -1.19, "high": -1.1})[0]
            assert_same((obs,), (want,), "reset at the wall")
        pump = policy.act(obs).astype(np.float64)
        actions = np.where(rng.random((n, 1)) < 0.7, pump, rng.uniform(-1.0, 1.0, (n, 1)))
        actions[rng.random((n, 1)) < 0.05] = -1.0  # on the bound: within it
        actions = actions.astype(np.float32)
        got = batched.step(actions)
        assert_same(got[:4], sync.step(actions)[:4], t)
        obs = got[0]
        terminated += int(got[2].sum())
    assert terminated > n, terminated
    assert 0.5 < np.mean(taken) < 1.0, np.mean(taken)

    # From states at the speed limit (which gymnasium's car never quite reaches) and at each wall,
    # set in both envs, a step the float32 rules would get wrong: _physics takes it.
    for states, push in [([[-0.5, 0.0699], [-0.6, 0.01]], [[1.0], [0.2]]),
                         ([[-0.5, -0.0699], [-0.6, 0.01]], [[-1.0], [0.2]]),
                         ([[-1.19, -0.02], [0.44, 0.03]], [[-1.0], [0.5]]),
                         ([[0.59, 0.02], [0.44, 0.03]], [[1.0], [0.5]])]:
        states = np.array(states, np.float32)
        batched, sync = make_pair("MountainCarContinuous-v0", len(states))
        batched.reset(seed=0)
        sync.reset(seed=0)
        zeros = np.zeros((len(states), 1), np.float32)
        batched.step(zeros), sync.step(zeros)  # past the first step (its state is reset's float64)
        env = batched.unwrapped
        env.position[:], env.velocity[:] = states[:, 0], states[:, 1]
        for single, state in zip(sync.envs, states):
            single.unwrapped.state = state.copy()
        taken.clear()
        for actions in (push, [[0.3]] * len(states)):
            actions = np.array(actions, np.float32)
            assert_same(batched.step(actions)[:4], sync.step(actions)[:4], (states.tolist(), actions.tolist()))
        assert taken[0] is False, states


def test_mountain_car_reads_unsigned_actions_as_their_values():
    """gymnasium's MountainCar computes ``(action - 1) * force`` in the action's dtype, so there an
    unsigned action 0 wraps around to 255 and pushes right; here it pushes left, as int64 does."""
    runs = []
    for dtype in (np.int64, np.uint8):
        env = gymnasium.make_vec("MountainCar-v0", 4, vectorization_mode="vector_entry_point")
        obs = [env.reset(seed=2)[0]]
        for t in range(150):
            obs.append(env.step(np.array([0, 1, 2, t % 3], dtype=dtype))[0])
        runs.append(np.array(obs))
    assert np.array_equal(runs[0], runs[1])
    assert runs[1][1, 0, 1] < 0  # action 0 pushed left (gymnasium's car would be at full speed right: 0.07)


@pytest.mark.filterwarnings("ignore::UserWarning:gymnasium")  # its env checker's, on NaN observations
def test_nan_actions_propagate_as_in_gymnasium():
    for env_id in ("Pendulum-v1", "MountainCarContinuous-v0"):
        batched, sync = make_pair(env_id, 3)
        batched.reset(seed=1)
        sync.reset(seed=1)
        actions = np.array([[np.nan], [0.5], [-np.inf]], dtype=np.float32)
        for t in range(3):
            got, want = batched.step(actions), sync.step(actions)
            # Same values; NaN payloads are not compared (both are NaN where one is).
            for a, b in zip(got[:4], want[:4]):
                np.testing.assert_array_equal(a, b, err_msg=f"{env_id} step {t}")


def test_frames_are_gymnasiums():
    for env_id in ENVS:
        batched, sync = make_pair(env_id, 3, render_mode="rgb_array")
        actor = Actor(env_id, batched.single_action_space, 0)
        obs, _ = batched.reset(seed=5)
        sync.reset(seed=5)
        for t in range(4):
            frames, want = batched.render(), sync.render()
            assert len(frames) == 3 and all(np.array_equal(a, b) for a, b in zip(frames, want)), (env_id, t)
            actions = actor(obs, 0.5, "int64" if isinstance(batched.single_action_space,
                                                            gymnasium.spaces.Discrete) else "float32")
            obs = batched.step(actions)[0]
            sync.step(actions)
        batched.close()
        sync.close()


def test_bad_actions_seeds_and_masks_are_one_line_value_errors():
    zoo.plugins()  # gymnasium's classic-control specs get their vector entry points from the zoo's plugin
    env = gymnasium.make_vec("Acrobot-v1", 4, vectorization_mode="vector_entry_point")
    with pytest.raises(gymnasium.error.ResetNeeded):
        env.step(np.zeros(4, dtype=np.int64))
    env.reset(seed=0)
    for bad in (np.full(4, 3), np.full(4, -1), np.zeros(3, dtype=np.int64), np.zeros(4), np.zeros((4, 1), dtype=int),
                np.zeros(4, dtype=bool), np.full(4, -1, dtype=np.int8), np.full(4, -1, dtype=">i8"),
                np.full(4, 3, dtype=">u2")):
        with pytest.raises(ValueError, match="actions must be 4 integers in 0..2"):
            env.step(bad)
    for good in (np.full(4, 2, dtype=np.int8), np.full(4, 2, dtype=">i8"), np.full(4, 1, dtype=np.uint64)):
        env.step(good)  # any integer dtype, any byte order
    box = gymnasium.make_vec("Pendulum-v1", 4, vectorization_mode="vector_entry_point")
    box.reset(seed=0)
    for bad in (np.zeros(4, dtype=np.float32), np.zeros((4, 2)), np.zeros((4, 1), dtype=bool),
                np.zeros((4, 1), dtype=np.longdouble), [["a"]] * 4):
        with pytest.raises(ValueError, match=r"actions must be an array of shape \(4, 1\)"):
            box.step(bad)
    for seed in ([1, 2, 3], "7", 1.5):
        with pytest.raises(ValueError, match="seed must be None, an integer or a list of 4 seeds"):
            env.reset(seed=seed)
    for mask in (np.ones(3, dtype=bool), [True] * 4, np.ones(4, dtype=int)):
        with pytest.raises(ValueError, match="reset_mask"):
            env.reset(options={"reset_mask": mask})
    with pytest.raises(gymnasium.error.Error, match="-1"):
        env.reset(seed=[0, 1, 2, -1])  # refused by gymnasium's seeding, as the sync env refuses it
    with pytest.raises(ValueError, match="num_envs must be a positive integer"):
        gymnasium.make_vec("Acrobot-v1", 0, vectorization_mode="vector_entry_point")


def test_zoo_make_vec_env_builds_the_batched_envs_by_either_name():
    for name, gym_id in [("acrobot", "Acrobot-v1"), ("mountaincar", "MountainCar-v0"),
                         ("mountaincar-continuous", "MountainCarContinuous-v0"), ("pendulum", "Pendulum-v1")]:
        for env in (zoo.make_vec_env(name, 5), zoo.make_vec_env(gym_id, 5)):
            assert type(env.unwrapped).__module__.startswith("zoo.envs.classic.")
            assert env.unwrapped.max_episode_steps == gymnasium.spec(gym_id).max_episode_steps
            env.close()
        assert type(zoo.make_vec_env(name, 2, vectorization_mode="sync")) is gymnasium.vector.SyncVectorEnv


# -- numpy scalars' ** 2 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_scalar_square_is_what_numpy_scalars_give(dtype):
    rng = np.random.default_rng(0)
    with np.errstate(over="ignore", under="ignore"):
        values = np.concatenate([rng.uniform(-10, 10, 60_000), rng.normal(0, 1e-3, 20_000), 2.0 ** np.arange(-30, 30),
                                 [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-160, 3e200]]).astype(dtype)
        want = np.array([value**2 for value in values], dtype=dtype)
        got = scalar_square(values)
        even = len(values) // 2 * 2
        in_rows = scalar_square(values[:even].reshape(2, -1))
    assert got.dtype == dtype and got.tobytes() == want.tobytes()
    assert in_rows.tobytes() == want[:even].tobytes()
    if dtype != np.float16:  # the point: plain squaring differs, about once in a thousand
        with np.errstate(over="ignore"):
            assert (values * values != want)[np.isfinite(want)].any()


def test_a_float64_square_too_large_for_a_double_warns_as_the_scalar_does():
    with pytest.warns(RuntimeWarning, match="overflow"):
        scalar = np.float64(3e200) ** 2
    with pytest.warns(RuntimeWarning, match="overflow"):
        squares = scalar_square(np.array([3e200, 2.0]))
    assert squares[0] == scalar == np.inf and squares[1] == 4.0


# -- generated schedules ----------------------------------------------------------------------------------
@st.composite
def schedules(draw, env_id: str, max_n: int, min_steps: int, max_steps: int):
    n = draw(st.sampled_from([k for k in (1, 7, 64) if k <= max_n]))
    dtypes = DISCRETE_DTYPES if env_id in ("Acrobot-v1", "MountainCar-v0") else CONTINUOUS_DTYPES
    if env_id == "MountainCar-v0":
        dtypes = tuple(d for d in dtypes if d != "uint8")
    seeds = st.integers(0, 2**31 - 1 - n)
    steps = st.tuples(st.just("steps"), st.integers(min_steps, max_steps), st.floats(0, 1), st.sampled_from(dtypes))
    event = st.one_of(
        steps,
        st.tuples(st.just("reset"), st.none() | seeds | st.lists(st.none() | seeds, min_size=n, max_size=n)),
        st.tuples(st.just("mask"), st.lists(st.booleans(), min_size=n, max_size=n), st.none() | seeds),
        st.tuples(st.just("options")),
    )
    return n, draw(seeds), [draw(steps), *draw(st.lists(event, max_size=7))]


def check_generated(env_id: str, data, max_n: int, min_steps: int, max_steps: int) -> None:
    n, seed, schedule = data.draw(schedules(env_id, max_n, min_steps, max_steps))
    run_schedule(env_id, n, seed, schedule)


@pytest.mark.parametrize("env_id", ENVS)
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_schedules(env_id, data):
    check_generated(env_id, data, max_n=7, min_steps=1, max_steps=150)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", ENVS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_schedules_at_length(env_id, data):
    check_generated(env_id, data, max_n=64, min_steps=200, max_steps=1500)
