"""Property tests (hypothesis) on the returns maths and on how the CLI's arguments are parsed."""

from __future__ import annotations

import math
import typing

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from zoo.agents import returns as R
from zoo.agents.reinforce import ReinforceConfig
from zoo.cli import app
from zoo.config import build_config, convert, parse_overrides
from zoo.exceptions import ZooError

rewards = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
episode = st.lists(rewards, min_size=0, max_size=30)
nonempty_episode = st.lists(rewards, min_size=1, max_size=30)
gammas = st.floats(0.0, 1.0)
FAST = settings(max_examples=60, deadline=None)


def reference_discount(rs: list[float], gamma: float) -> list[float]:
    """G_t = sum_k gamma^k r_{t+k}, straight from the definition."""
    return [sum(gamma ** k * r for k, r in enumerate(rs[t:])) for t in range(len(rs))]


# -- one episode -----------------------------------------------------------------------------------
@FAST
@given(episode, gammas)
def test_discount_rewards_matches_the_definition(rs, gamma):
    out = R.discount_rewards(rs, gamma)
    assert out.shape == (len(rs),) and out.dtype == np.float64 and np.isfinite(out).all()
    np.testing.assert_allclose(out, reference_discount(rs, gamma), rtol=1e-9, atol=1e-6)
    if rs:
        assert out[-1] == rs[-1]  # the last step's return is its reward


@FAST
@given(rewards, gammas)
def test_a_single_step_episode_returns_its_reward(r, gamma):
    assert R.discount_rewards([r], gamma).tolist() == [r]
    [normalised] = R.discount_and_normalize_rewards([[r]], gamma)
    assert normalised.tolist() == [0.0]  # one value: zero variance, normalised to 0, not NaN


@FAST
@given(nonempty_episode, st.floats(0.1, 100.0), st.floats(-1e3, 1e3))
def test_normalize_is_shift_and_scale_invariant(values, scale, shift):
    x = np.asarray(values)
    assume(x.std() > 0.1)
    np.testing.assert_allclose(R.normalize(scale * x + shift), R.normalize(x), atol=1e-4)
    out = R.normalize(x)
    assert abs(out.mean()) < 1e-9 and abs(out.std() - 1) < 1e-5


@FAST
@given(rewards, st.integers(0, 20))
def test_normalize_with_zero_variance_gives_zeros_not_nan(value, n):
    # Rounding leaves x - mean at ~1e-16 * |value| rather than 0; EPS keeps the quotient that
    # small (~2e-8 * |value|), never NaN and never the +-1 a unit-variance rescale would make.
    bound = 1e-7 * max(1.0, abs(value))
    out = R.normalize(np.full(n, value))
    assert out.shape == (n,) and np.isfinite(out).all() and (np.abs(out) < bound).all()
    mask = np.ones((n, 2), dtype=bool)
    assert (np.abs(R.normalize_masked(np.full((n, 2), value), mask, per_column=True)) < bound).all()
    assert (np.abs(R.normalize_groups(np.full(n, value), np.zeros(n, dtype=np.int64))) < bound).all()


# -- batches ---------------------------------------------------------------------------------------
@FAST
@given(st.lists(episode, min_size=0, max_size=6), gammas, st.booleans())
def test_batch_normalisation_is_per_episode_discounting_then_one_normalisation(episodes, gamma, per_episode):
    out = R.discount_and_normalize_rewards(episodes, gamma, per_episode=per_episode)
    assert [o.shape for o in out] == [(len(e),) for e in episodes]
    assert all(o.dtype == np.float64 and np.isfinite(o).all() for o in out)
    discounted = [R.discount_rewards(e, gamma) for e in episodes]
    if per_episode:
        expected = [R.normalize(d) for d in discounted]
    else:
        flat = R.normalize(np.concatenate(discounted)) if discounted else np.zeros(0)
        expected = np.split(flat, np.cumsum([len(e) for e in episodes])[:-1]) if episodes else []
    for o, e in zip(out, expected):
        np.testing.assert_allclose(o, e, atol=1e-9)


def as_columns(episodes: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """(time, env) rewards and active mask, one episode per column."""
    horizon = max([len(e) for e in episodes] + [0])
    rewards_ = np.zeros((horizon, len(episodes)))
    active = np.zeros((horizon, len(episodes)), dtype=bool)
    for i, e in enumerate(episodes):
        rewards_[: len(e), i] = e
        active[: len(e), i] = True
    return rewards_, active


@FAST
@given(st.lists(episode, min_size=1, max_size=6), gammas)
def test_batch_returns_agree_with_the_per_episode_function(episodes, gamma):
    rewards_, active = as_columns(episodes)
    garbage = np.where(active, rewards_, 1e6)  # what lies outside an episode must not leak in
    out = R.discounted_returns_batch(garbage, active, gamma)
    assert out.shape == rewards_.shape and out.dtype == np.float64 and np.isfinite(out).all()
    assert (out[~active] == 0).all()
    for i, e in enumerate(episodes):
        np.testing.assert_allclose(out[: len(e), i], R.discount_rewards(e, gamma), rtol=1e-12, atol=1e-9)


@FAST
@given(st.integers(0, 40), st.integers(1, 40), gammas, st.integers(0, 2**32 - 1))
def test_returns_value_by_value_and_row_by_row_are_the_same_bits(rows, copies, gamma, seed):
    """``discounted_returns_episodes`` loops over values up to ``BY_VALUE_UP_TO`` copies and over
    rows beyond: both give every return to the bit, across episode ends and inactive steps."""
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=(rows, copies)) * rng.choice([1e-3, 1.0, 1e3], size=(rows, copies))
    stops = rng.random((rows, copies)) < 0.2
    by_value = R._returns_value_by_value(rewards, stops, gamma)
    by_row = R._returns_row_by_row(rewards, stops, gamma)
    assert by_value.shape == by_row.shape == (rows, copies) and by_value.tobytes() == by_row.tobytes()


@FAST
@given(st.lists(st.lists(nonempty_episode, min_size=0, max_size=3), min_size=1, max_size=4), gammas)
def test_back_to_back_episodes_agree_with_the_per_episode_function(columns, gamma):
    """``discounted_returns_episodes``: each column holds several consecutive episodes."""
    horizon = max(sum(len(e) for e in col) for col in columns) + 1
    n = len(columns)
    rewards_ = np.full((horizon, n), 7.0)
    active = np.zeros((horizon, n), dtype=bool)
    ends = np.zeros((horizon, n), dtype=bool)
    for i, col in enumerate(columns):
        t = 0
        for e in col:
            rewards_[t: t + len(e), i] = e
            active[t: t + len(e), i] = True
            ends[t + len(e) - 1, i] = True
            t += len(e)
    out = R.discounted_returns_episodes(rewards_, active, ends, gamma)
    ids = R.episode_ids(active, ends)
    assert out.shape == ids.shape == (horizon, n) and np.isfinite(out).all()
    assert (out[~active] == 0).all() and (ids[~active] == -1).all()
    label = 0
    for i, col in enumerate(columns):
        t = 0
        for e in col:
            np.testing.assert_allclose(out[t: t + len(e), i], R.discount_rewards(e, gamma), rtol=1e-12, atol=1e-9)
            assert (ids[t: t + len(e), i] == label).all()
            label, t = label + 1, t + len(e)
    # Normalising per episode label = normalising each episode on its own.
    normalised = R.normalize_groups(out, ids)
    for k in range(label):
        np.testing.assert_allclose(normalised[ids == k], R.normalize(out[ids == k]), atol=1e-9)
    assert (normalised[ids < 0] == 0).all() and np.isfinite(normalised).all()


@FAST
@given(st.lists(episode, min_size=1, max_size=6), gammas)
def test_masked_normalisation_agrees_with_normalising_the_active_values(episodes, gamma):
    rewards_, active = as_columns(episodes)
    returns = R.discounted_returns_batch(rewards_, active, gamma)
    whole = R.normalize_masked(returns, active)
    np.testing.assert_allclose(whole[active], R.normalize(returns[active]), atol=1e-12)
    per_column = R.normalize_masked(returns, active, per_column=True)
    for i, e in enumerate(episodes):
        np.testing.assert_allclose(per_column[: len(e), i], R.normalize(returns[: len(e), i]), atol=1e-12)
    assert (whole[~active] == 0).all() and (per_column[~active] == 0).all()
    values = np.where(active, 0.5 * returns, 0.0)
    adv = R.advantages(returns, values)
    assert adv.shape == returns.shape and adv.dtype == np.float64
    np.testing.assert_allclose(adv, returns - values)


# -- command-line values ---------------------------------------------------------------------------
keys = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@FAST
@given(st.dictionaries(keys, texts, max_size=5))
def test_parse_overrides_round_trips_key_value_pairs(pairs):
    parsed = parse_overrides([f"{k}={v}" for k, v in pairs.items()])
    assert parsed == {k: v.strip() for k, v in pairs.items()}


@FAST
@given(texts.filter(lambda t: "=" not in t))
def test_parse_overrides_refuses_a_pair_without_equals(text):
    with pytest.raises(ZooError, match="KEY=VALUE"):
        parse_overrides([text])


@FAST
@given(st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False), st.booleans())
def test_convert_round_trips_what_it_prints(i, f, b):
    assert convert(str(i), int, "k") == i
    assert convert(repr(f), float, "k") == f
    assert convert(str(b).lower(), bool, "k") is b
    assert convert(",".join(map(str, [i, i + 1])), tuple[int, ...], "k") == (i, i + 1)


# typing.Optional[int] on purpose: a typing.Union, which convert() must handle as well as `int | None`.
ANNOTATIONS = [int, float, bool, str, tuple[int, ...], typing.Literal["tanh", "relu"], typing.Optional[int]]  # noqa: UP045


@FAST
@given(texts, st.sampled_from(ANNOTATIONS))
def test_convert_gives_the_type_or_a_zoo_error_never_anything_else(text, annotation):
    try:
        value = convert(text, annotation, "key")
    except ZooError as exc:
        assert "key=" in str(exc) and "\n" not in str(exc)
        return
    if annotation is float:
        assert isinstance(value, float) and math.isfinite(value)
    elif annotation in (int, bool, str):
        assert type(value) is annotation
    elif annotation == tuple[int, ...]:
        assert isinstance(value, tuple) and all(type(v) is int for v in value)
    elif typing.get_origin(annotation) is typing.Literal:
        assert value in ("tanh", "relu")
    else:
        assert value is None or type(value) is int


@FAST
@given(st.dictionaries(st.sampled_from(["learning_rate", "gamma", "net_arch", "activation", "n_envs",
                                        "normalize_advantage", "nope", "norm_obs", "lr"]), texts, max_size=4))
def test_build_config_gives_a_valid_config_or_a_zoo_error(layer):
    try:
        config = build_config(ReinforceConfig, layer)
    except ZooError as exc:
        assert "\n" not in str(exc)
        return
    assert 0 <= config.gamma <= 1 and config.learning_rate > 0 and config.n_envs >= 1
    assert "nope" not in layer and "lr" not in layer


runner = CliRunner()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(keys, texts), min_size=1, max_size=3))
def test_any_set_option_is_answered_in_one_line_and_writes_nothing(tmp_path, pairs):
    """``--episodes 0`` makes even a valid --set fail (after it was parsed): nothing may run."""
    args = ["train", "reinforce", "cartpole", "--episodes", "0", "--out", str(tmp_path / "run")]
    for key, value in pairs:
        args += ["--set", f"{key}={value}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
