"""Hyperparameter search with Optuna: ``zoo tune AGENT ENV --trials N``.

The zoo does not search by itself: an Optuna study (TPE sampler, median pruner) proposes
hyperparameters, the zoo trains and evaluates them, and the study keeps score in a database, so
a study continues where it stopped and several machines can share it.

* **The space is data.** Each agent declares it in its defaults file, next to its per-env
  defaults: ``[AGENT.search]`` for every env and ``[AGENT."Env-v0".search]`` where an env needs its
  own (``Agent.search_space``; checked by :func:`search_space`).
* **A trial** trains the proposed config on ``seeds`` seeds for ``budget`` env steps each,
  evaluating every ``eval_every`` steps on separately seeded envs (the training loop's own
  evaluation); the pruner sees those evaluations and stops hopeless trials early. Its value is
  the mean final evaluation return over the seeds, or the env steps to reach a threshold.
* **The driver** asks the study for a trial whenever a worker is free, runs it on the execution
  layer (:mod:`zoo.execution`: worker processes or Ray tasks, one failure policy) and tells the
  study its value: the same driver for both backends, so with one worker and the same sampler
  seed both propose the same trials. A trial whose worker died is run again once, then failed;
  Ctrl-C stops asking and lets running trials finish, a second one (or SIGTERM) stops them and
  marks them failed. A trial whose driver died is failed by its missing heartbeats.
"""

from zoo.tools.tune.outputs import (
    best_config_toml,
    defaults_table_toml,
    summary,
    toml_value,
    trials_csv,
    typed_params,
    write_outputs,
)
from zoo.tools.tune.plan import OBJECTIVES, Objective, TunePlan, default_out, plan_tune
from zoo.tools.tune.run import OnTrial, TuneOutcome, run_tune
from zoo.tools.tune.space import load_optuna, search_space
from zoo.tools.tune.study import GRACE, HEARTBEAT, make_pruner, open_storage, open_study
from zoo.tools.tune.trial import TrialSpec, run_trial, steps_to_threshold, trial_spec

__all__ = ["GRACE", "HEARTBEAT", "OBJECTIVES", "Objective", "OnTrial", "TrialSpec", "TuneOutcome", "TunePlan",
           "best_config_toml", "default_out", "defaults_table_toml", "load_optuna", "make_pruner", "open_storage",
           "open_study", "plan_tune", "run_trial", "run_tune", "search_space", "steps_to_threshold", "summary",
           "toml_value", "trial_spec", "trials_csv", "typed_params", "write_outputs"]
