"""Where a trial's randomness comes from: Optuna's TPE sampler, seeded for each trial by the
study's sampler seed and the trial's number.

One TPE sampler seeded once per process repeats itself: a study continued by a rerun starts its
random stream again and proposes the first trials' parameters once more, and two processes
sharing a storage (several machines on one study) propose the same ones pairwise. Trial numbers
are unique in a study, handed out by its storage, so a seed drawn from (sampler seed, trial
number) is new for every trial of every process, and the same for the same trial of the same
study: a fresh study run by one driver proposes the same trials for the same ``--sampler-seed``,
on any backend. Once TPE models the results so far (after its first ten trials), a trial's
proposal also depends on what the study holds at that moment: what other processes finished
first, and (with ``constant_liar``, Optuna's default) which trials are still running.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna


def trial_seed(sampler_seed: int, number: int) -> int:
    """The seed of trial ``number``'s sampler: numpy's SeedSequence of both, so that nearby
    sampler seeds and trial numbers give unrelated streams."""
    return int(np.random.SeedSequence([sampler_seed, number]).generate_state(1)[0])


class TrialSeededSampler(optuna.samplers.BaseSampler):
    """:class:`optuna.samplers.TPESampler`, made afresh for each trial with the seed
    :func:`trial_seed` gives (Optuna calls ``before_trial`` once a trial has its number, before
    any of its parameters is sampled)."""

    def __init__(self, seed: int, **tpe_options: Any) -> None:
        self.seed = seed
        self._options = tpe_options
        self._sampler = optuna.samplers.TPESampler(seed=seed, **tpe_options)

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._sampler = optuna.samplers.TPESampler(seed=trial_seed(self.seed, trial.number), **self._options)
        self._sampler.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study,
                                    trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
        return self._sampler.infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: optuna.trial.FrozenTrial,
                        search_space: dict[str, Any]) -> dict[str, Any]:
        return self._sampler.sample_relative(study, trial, search_space)

    def sample_independent(self, study: optuna.Study, trial: optuna.trial.FrozenTrial, param_name: str,
                           param_distribution: Any) -> Any:
        return self._sampler.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial, state: Any,
                    values: Sequence[float] | None) -> None:
        self._sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._sampler.reseed_rng()
