"""rl-baselines3-zoo's log layout, written beside the run folder (``zoo train ... --log-folder DIR``),
so that rl-baselines3-zoo's own scripts read a zoo run as they read theirs
(``python -m rl_zoo3.plots.plot_train``, ``rl_zoo3.plots.all_plots``, ``python -m rl_zoo3.benchmark``)::

    DIR/ALGO/ENV_N/
      0.monitor.csv          every training episode, in SB3's Monitor format (one file for all the
                             run's envs: the zoo counts episodes, not which copy played them)
      evaluations.npz        EvalCallback's arrays, with --eval-every (--log-folder alone evaluates
                             as rl-baselines3-zoo does: every 25,000 steps, 5 episodes)
      best_model.zip         the best evaluated policy, for agents that export SB3 zips
      ENV.zip                the final model (also when training is interrupted), idem
      ENV/config.yml         the run's hyperparameters, n_timesteps and normalize
      ENV/args.yml           the run's settings under rl-baselines3-zoo's train.py names
      ENV/command.txt        the command that started the run
      ENV/vecnormalize.pkl   a normalised run's VecNormalize statistics

``ALGO`` is rl-baselines3-zoo's name of the algorithm: the agent's name without ``sb3-``, ``-`` as
``_`` (``sb3-ppo`` -> ``ppo``, ``sb3-ppo-lstm`` -> ``ppo_lstm``; ``reinforce`` stays). ``ENV`` is
the env's Hub id with ``/`` as ``-`` (huggingface_sb3's ``EnvironmentName``), ``N`` one more than
the highest run of that env in ``DIR/ALGO`` (rl-baselines3-zoo's ``get_latest_run_id``). The YAML
files are dumped as rl-baselines3-zoo dumps them (an ``OrderedDict``, sorted); the zoo reads them
back with a safe loader (:mod:`zoo.agents.sb3_files`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo.exceptions import ZooError, one_line
from zoo.exporting import export_model
from zoo.files import atomic_write_text
from zoo.limits import shown
from zoo.training.logs import MonitorCSV, read_monitor_start
from zoo.training.periodic_eval import EVALUATIONS_FILE

MONITOR_FILE = "0.monitor.csv"
BEST_MODEL = "best_model.zip"
CONFIG_YML, ARGS_YML, COMMAND_TXT = "config.yml", "args.yml", "command.txt"
#: rl-baselines3-zoo evaluates every 25,000 steps on 5 episodes unless told otherwise (train.py).
EVAL_EVERY, EVAL_EPISODES = 25_000, 5
#: The export format whose zips rl-baselines3-zoo loads.
SB3_FORMAT = "sb3"


def algorithm_folder(agent: str) -> str:
    """rl-baselines3-zoo's name of ``agent``'s algorithm: ``sb3-ppo-lstm`` -> ``ppo_lstm``."""
    return agent.removeprefix("sb3-").replace("-", "_")


def env_folder(hub_id: str) -> str:
    """huggingface_sb3's ``EnvironmentName``: the id with ``/`` as ``-``, a ``module:`` part dropped."""
    return hub_id.rpartition(":")[2].replace("/", "-")


def latest_run_id(algo_path: Path, env_name: str) -> int:
    """The highest ``N`` of ``ENV_N`` folders in ``algo_path`` (0 if none): rl-baselines3-zoo's rule."""
    pattern = re.compile(rf"^{re.escape(env_name)}_(\d+)$")
    found = [int(m[1]) for p in algo_path.glob(f"{env_name}_*") if (m := pattern.match(p.name))]
    return max(found, default=0)


def _yaml(mapping: Mapping[str, Any]) -> str:
    import yaml

    return yaml.dump(OrderedDict(sorted(mapping.items())))


#: rl-baselines3-zoo's train.py settings, as its args.yml holds them, with train.py's defaults.
ARGS_DEFAULTS: dict[str, Any] = {
    "algo": "ppo", "conf_file": None, "device": "auto", "env": "CartPole-v1", "env_kwargs": None,
    "eval_env_kwargs": None, "eval_episodes": 5, "eval_freq": 25000, "gym_packages": [], "hyperparams": None,
    "log_folder": "logs", "log_interval": -1, "max_total_trials": None, "n_eval_envs": 1, "n_evaluations": None,
    "n_jobs": 1, "n_startup_trials": 10, "n_timesteps": -1, "n_trials": 500, "no_optim_plots": False,
    "num_threads": -1, "optimization_log_path": None, "optimize_hyperparameters": False, "progress": False,
    "pruner": "median", "sampler": "tpe", "save_freq": -1, "save_replay_buffer": False, "seed": -1, "storage": None,
    "study_name": None, "tensorboard_log": "", "track": False, "trained_agent": "", "trial_id": None,
    "truncate_last_trajectory": True, "uuid": False, "vec_env": "dummy", "verbose": 1, "wandb_entity": None,
    "wandb_group": None, "wandb_project_name": "sb3", "wandb_tags": [],
}


def rl_zoo_settings(agent: str, hub_id: str, config: Mapping[str, Any], *, steps: int | None, seed: int,
                    normalize: bool, eval_every: int | None, eval_episodes: int, log_folder: str | Path,
                    config_file: str | None, overrides: Mapping[str, Any] | None,
                    gym_packages: Sequence[str] = (),
                    save_freq: int | None = None,
                    env_kwargs: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``config.yml`` and ``args.yml`` of a run: its resolved hyperparameters (the zoo's names) with
    rl-baselines3-zoo's ``n_timesteps`` (None until known, for a budget in episodes) and ``normalize``
    (what its tools read back), and its settings under train.py's names."""
    hyperparameters = {**config, "n_timesteps": steps}
    if normalize:
        hyperparameters["normalize"] = True
    args = {"algo": algorithm_folder(agent), "env": hub_id, "n_timesteps": steps or -1, "seed": seed,
            "eval_freq": eval_every or -1, "eval_episodes": eval_episodes, "log_folder": str(log_folder),
            "conf_file": config_file, "hyperparams": dict(overrides) if overrides else None,
            "gym_packages": list(gym_packages), "device": config.get("device", "cpu"),
            "vec_env": config.get("vec_env", "dummy"), "save_freq": save_freq or -1,
            "env_kwargs": dict(env_kwargs) if env_kwargs else None}
    return hyperparameters, args


class RlZooLog:
    """One run's rl-baselines3-zoo folder, kept up to date as the run trains."""

    def __init__(self, path: Path, env_name: str, env_id: str, rows: Sequence[Sequence[Any]] = (),
                 best_mean: float | None = None, t_start: float | None = None) -> None:
        self.path, self.env_name = path, env_name
        self.monitor = MonitorCSV(path / MONITOR_FILE, env_id, rows, t_start)
        self.best_mean = best_mean
        #: ``config.yml`` as written; without a step budget, its ``n_timesteps`` is filled in at the end.
        self.config: dict[str, Any] = {}

    @classmethod
    def create(cls, log_folder: str | Path, agent: str, hub_id: str) -> RlZooLog:
        """A new ``LOG_FOLDER/ALGO/ENV_N`` (``N`` as rl-baselines3-zoo counts; two runs started at
        once get different ones)."""
        algo_path, env_name = Path(log_folder) / algorithm_folder(agent), env_folder(hub_id)
        try:
            algo_path.mkdir(parents=True, exist_ok=True)
            run_id = latest_run_id(algo_path, env_name) + 1
            while True:
                path = algo_path / f"{env_name}_{run_id}"
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    run_id += 1
            (path / env_name).mkdir()
        except OSError as exc:
            raise ZooError(f"--log-folder {str(log_folder)!r}: cannot create the run's folder "
                           f"({exc.strerror or one_line(exc)})") from None
        return cls(path, env_name, hub_id)

    @classmethod
    def reopen(cls, path: str | Path, env_id: str, rows: Sequence[Sequence[Any]],
               best_mean: float | None, t_start: float | None) -> RlZooLog:
        """The folder a resumed run started (its Monitor file rewound to the checkpoint's episodes,
        its start time ``t_start`` from :meth:`kept_start`)."""
        path = Path(path)
        return cls(path, path.name.rpartition("_")[0], env_id, rows, best_mean, t_start)

    @staticmethod
    def kept_start(path: Any) -> float | None:
        """Checked before a resume writes anything: the run's rl-baselines3-zoo folder ``path``
        (as its ``config.json`` names it) is there and its Monitor file is what the zoo writes;
        returns the Monitor file's start time (None: a new one starts)."""
        if not isinstance(path, str) or not path or not Path(path).is_dir():
            raise ZooError(f"the run's rl-baselines3-zoo folder ({shown(path)} in config.json) is gone or not a "
                           "folder: it cannot be continued")
        return read_monitor_start(Path(path) / MONITOR_FILE)

    def write_settings(self, config: Mapping[str, Any], args: Mapping[str, Any], argv: Sequence[str]) -> None:
        """``ENV/config.yml``, ``ENV/args.yml`` (over train.py's defaults) and ``ENV/command.txt``."""
        folder = self.path / self.env_name
        self.config = dict(config)
        atomic_write_text(folder / CONFIG_YML, _yaml(config))
        atomic_write_text(folder / ARGS_YML, _yaml({**ARGS_DEFAULTS, **args}))
        atomic_write_text(folder / COMMAND_TXT, shlex.join(list(argv)))

    def iteration(self, learner: Any, new_rows: Sequence[Sequence[Any]], run_dir: Path,
                  evaluated: Mapping[str, float] | None) -> None:
        """After each iteration: its episodes; after an evaluation, ``evaluations.npz`` and, when it
        found a better policy, ``best_model.zip``."""
        self.monitor.write(new_rows)
        if evaluated is None:
            return
        shutil.copyfile(run_dir / EVALUATIONS_FILE, self.path / f".{EVALUATIONS_FILE}.tmp")
        os.replace(self.path / f".{EVALUATIONS_FILE}.tmp", self.path / EVALUATIONS_FILE)
        best = evaluated.get("eval/best_mean_reward")
        if best is not None and (self.best_mean is None or best > self.best_mean):
            self.best_mean = best
            self._export(learner, self.path / BEST_MODEL, beside=False)

    def finish(self, learner: Any, env_steps: int) -> None:
        """The final model: ``ENV.zip``, with ``ENV/vecnormalize.pkl`` for a normalised run; a run
        budgeted in episodes gets the steps it trained as ``n_timesteps``."""
        self._export(learner, self.path / f"{self.env_name}.zip", beside=True)
        if self.config and self.config.get("n_timesteps") is None:
            self.config["n_timesteps"] = env_steps
            atomic_write_text(self.path / self.env_name / CONFIG_YML, _yaml(self.config))

    def _export(self, learner: Any, path: Path, *, beside: bool) -> None:
        if SB3_FORMAT not in getattr(learner, "export_formats", {}):
            return  # rl-baselines3-zoo loads SB3 zips; the curves and evaluations do not need one
        written = export_model(learner, SB3_FORMAT, path, f"agent {learner.name!r}")
        for extra in written[1:]:  # rl-baselines3-zoo keeps them in the ENV folder, not beside the zip
            if beside:
                os.replace(extra, self.path / self.env_name / extra.name)
            else:
                extra.unlink()
