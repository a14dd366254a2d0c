"""Statistics for a handful of seeds that hold up: the interquartile mean (IQM) and percentile
bootstrap confidence intervals, stratified by task, as rliable computes them (Agarwal et al.,
"Deep Reinforcement Learning at the Edge of the Statistical Precipice", NeurIPS 2021).

Why not rliable itself: rliable 1.2 imports ``arch``, whose release that installs here (7.2)
fails to import with the installed pandas (``deprecate_kwarg() missing 1 required positional
argument``), and it would bring scipy, statsmodels and seaborn for some twenty lines of numpy.
The functions below follow rliable's definitions (``metrics.aggregate_iqm`` is
``scipy.stats.trim_mean(scores, 0.25)`` over all runs and tasks; ``StratifiedBootstrap``
resamples runs with replacement within each task; percentile intervals) and are tested
against direct computations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

#: Bootstrap resamples: rliable's examples use 2,000 for figures, 50,000 for papers.
DEFAULT_REPS = 2000


def iqm(scores: Sequence[float] | np.ndarray) -> float:
    """Mean of the middle half: sorted, a quarter of the values (rounded down) cut from each end,
    as ``scipy.stats.trim_mean(scores, 0.25)`` does. Robust to one lucky or broken seed, and less
    noisy than the median."""
    values = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    if values.size == 0:
        return float("nan")
    cut = int(0.25 * values.size)
    return float(values[cut:values.size - cut].mean())


def stratified_bootstrap_ci(scores_by_task: Mapping[str, Sequence[float]] | Sequence[float],
                            statistic: Callable[[np.ndarray], float] = iqm, *, reps: int = DEFAULT_REPS,
                            confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """``(point estimate, low, high)`` of ``statistic`` over all runs of all tasks, with a percentile
    bootstrap interval: each resample draws, within every task, as many runs as it has, with
    replacement (a single list of scores is one task)."""
    tasks = [np.asarray(s, dtype=np.float64) for s in
             (scores_by_task.values() if isinstance(scores_by_task, Mapping) else [scores_by_task])]
    tasks = [t for t in tasks if t.size]
    if not tasks:
        nan = float("nan")
        return nan, nan, nan
    point = statistic(np.concatenate(tasks))
    rng = np.random.default_rng(seed)
    draws = [t[rng.integers(0, t.size, size=(reps, t.size))] for t in tasks]
    resampled = np.concatenate(draws, axis=1)
    estimates = np.array([statistic(row) for row in resampled])
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return point, float(low), float(high)


def bootstrap_mean_band(curves: np.ndarray, *, reps: int = DEFAULT_REPS, confidence: float = 0.95,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For curves of shape (runs, points): the mean curve and a pointwise percentile bootstrap
    band over runs (whole runs are resampled, so each resample is a set of real curves)."""
    curves = np.asarray(curves, dtype=np.float64)
    mean = curves.mean(axis=0)
    if curves.shape[0] < 2:
        return mean, mean.copy(), mean.copy()
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, curves.shape[0], size=(reps, curves.shape[0]))
    means = curves[picks].mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(means, [tail, 100 - tail], axis=0)
    return mean, low, high
