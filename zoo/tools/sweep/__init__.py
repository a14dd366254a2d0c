"""Sweeps: train and evaluate every agent × env × setting × seed, on a process pool or on Ray.

The zoo does not schedule anything itself: a sweep is a list of independent runs
(:mod:`.plan`) handed to the execution layer (:mod:`zoo.execution`: ``concurrent.futures``
locally, Ray tasks on a cluster, one failure policy). Each run (:mod:`.run`) is
``zoo.train`` into its own run folder, then ``zoo.evaluate`` on the final
checkpoint (seeded by :func:`zoo.scoring.evaluation_seed`), and ends by writing
``result.json`` atomically. That file's presence is what "done" means, so an interrupted sweep
restarted with the same ``--out`` redoes only the runs without a successful result. A process
doing a run holds its lock from start to result, so several sweeps on one ``--out`` share the
runs and never redo or remove one another's. The tables come last (:mod:`.report`)::

    OUT/
      runs/AGENT__ENV__SETTING__seedN/   a `zoo train` run folder, plus result.json
      .locks/AGENT__ENV__SETTING__seedN.lock   held while a process does the run
      results.csv  results.json          one row per run
      summary.md   summary.png           mean ± std over seeds per agent × env × setting

    from zoo.tools.sweep import plan_sweep, run_sweep
    plan = plan_sweep(["reinforce"], ["cartpole"], "0-4", grid={"learning_rate": ["0.01", "0.03"]},
                      train_steps=20_000, out="sweeps/lr")
    outcome = run_sweep(plan, backend="local")
    print(outcome.tables["summary.md"].read_text())
"""

from zoo.tools.sweep.plan import (
    LOCKS_DIR,
    MAX_RUNS,
    MAX_SETTINGS,
    RESULT_FILE,
    RUNS_DIR,
    RunSpec,
    SweepPlan,
    grid_settings,
    parse_grid,
    parse_seeds,
    plan_sweep,
    read_result,
    setting_label,
    split_values,
    tuple_keys,
)
from zoo.tools.sweep.report import TABLE_FILES, mean_std, summarize, summary_markdown, write_tables
from zoo.tools.sweep.run import SweepOutcome, execute_run, run_sweep, sweep

__all__ = ["LOCKS_DIR", "MAX_RUNS", "MAX_SETTINGS", "RESULT_FILE", "RUNS_DIR", "TABLE_FILES", "RunSpec", "SweepOutcome",
           "SweepPlan", "execute_run", "grid_settings", "mean_std", "parse_grid", "parse_seeds", "plan_sweep",
           "read_result", "run_sweep", "setting_label", "split_values", "summarize", "summary_markdown", "sweep",
           "tuple_keys", "write_tables"]
