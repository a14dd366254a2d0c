"""IQM and stratified bootstrap intervals (rliable's definitions), checked against direct
computations; and the learning-curve plot over seeds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo.tools.statistics import bootstrap_mean_band, iqm, stratified_bootstrap_ci

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def trim_mean_quarter(values) -> float:
    """scipy.stats.trim_mean(values, 0.25), written out: the sorted values without the lowest and
    highest floor(n/4)."""
    ordered = sorted(values)
    k = int(len(ordered) * 0.25)
    kept = ordered[k:len(ordered) - k]
    return sum(kept) / len(kept)


@given(st.lists(finite, min_size=1, max_size=40))
def test_iqm_is_the_quarter_trimmed_mean(values):
    assert iqm(values) == pytest.approx(trim_mean_quarter(values), rel=1e-9, abs=1e-6)


def test_iqm_ignores_one_broken_seed_that_the_mean_does_not():
    scores = [100.0, 101.0, 99.0, 100.0, -1e9]
    assert iqm(scores) == pytest.approx(100.0, abs=0.5) and np.mean(scores) < -1e8


def test_stratified_bootstrap_resamples_runs_within_each_task():
    tasks = {"a": [1.0, 2.0, 3.0, 4.0], "b": [10.0, 20.0, 30.0]}
    point, low, high = stratified_bootstrap_ci(tasks, reps=500, seed=7)
    rng = np.random.default_rng(7)
    a, b = np.array(tasks["a"]), np.array(tasks["b"])
    draws_a = a[rng.integers(0, 4, size=(500, 4))]
    draws_b = b[rng.integers(0, 3, size=(500, 3))]
    estimates = [iqm(np.concatenate([x, y])) for x, y in zip(draws_a, draws_b)]
    assert point == iqm([*tasks["a"], *tasks["b"]])
    assert (low, high) == tuple(np.percentile(estimates, [2.5, 97.5]))
    assert low <= point <= high


@settings(max_examples=30)
@given(st.lists(finite, min_size=2, max_size=10))
def test_the_interval_lies_within_the_scores_and_holds_the_estimate(scores):
    point, low, high = stratified_bootstrap_ci(scores, reps=200)
    assert min(scores) - 1e-6 <= low <= point + 1e-6 and point - 1e-6 <= high <= max(scores) + 1e-6


def test_the_band_is_pointwise_over_whole_runs():
    curves = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]])
    mean, low, high = bootstrap_mean_band(curves, reps=400)
    np.testing.assert_allclose(mean, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(low, [0.0, 1.0, 2.0])  # both resamples of the lower run exist
    np.testing.assert_allclose(high, [2.0, 3.0, 4.0])
    single, lo, hi = bootstrap_mean_band(curves[:1])
    np.testing.assert_array_equal(single, lo)
    np.testing.assert_array_equal(single, hi)


def test_zoo_plot_draws_groups_of_seeds_and_refuses_bad_input(tmp_path):
    from typer.testing import CliRunner

    import zoo
    from zoo.cli import app
    from zoo.tools.plot import find_runs, group_runs, load_run

    for seed in (0, 1):  # 10,000 steps: within 3,000, not all 64 copies end an episode, so no update reports one
        zoo.train("reinforce", "cartpole", seed=seed, steps=10_000, out=tmp_path / "runs" / f"a{seed}")
        zoo.train("reinforce", "cartpole", seed=seed, steps=10_000, out=tmp_path / "runs" / f"b{seed}",
                  overrides={"gamma": 0.9})
    groups = group_runs([load_run(p, "steps", 100) for p in find_runs([tmp_path / "runs"])])
    assert sorted((g.label, len(g.runs)) for g in groups) == [("reinforce (gamma=0.9)", 2),
                                                              ("reinforce (gamma=0.99)", 2)]
    runner = CliRunner()
    result = runner.invoke(app, ["plot", str(tmp_path / "runs"), "--out", str(tmp_path / "curves.png"), "--x", "time"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(app, ["plot", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.png")])
    assert bad.exit_code == 2 and "neither a run folder" in bad.output
    assert not (tmp_path / "x.png").exists()
