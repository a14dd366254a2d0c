"""The base class of every agent, and what it exchanges with the zoo.

An agent acts through a stable-baselines3 style ``predict`` on a batch of observations, so
SB3's ``evaluate_policy`` and VecEnvs work on it unchanged. A learning agent also trains
one iteration at a time (the zoo drives the loop, so it can show progress, checkpoint and
stop cleanly) and exposes its state as named tensors for safetensors checkpoints. Its
hyperparameters are a dataclass (``Config``) of fields declared with :func:`hyperparameter`.

The names here are public as ``zoo.Agent``, ``zoo.Iteration``, ``zoo.ForeignConfig``,
``zoo.supports_spaces`` and ``zoo.hyperparameter``.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import gymnasium
import numpy as np

from zoo.config import read_env_defaults
from zoo.entries import EnvEntry
from zoo.policy import PolicyPredictor


def hyperparameter(help: str, default: Any) -> Any:
    """A documented ``Config`` field, ``field(default=..., metadata={"help": help})``; a list or
    tuple default becomes an immutable tuple per instance."""
    if isinstance(default, (list, tuple)):
        return dataclasses.field(default_factory=lambda: tuple(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass
class ForeignConfig:
    """What an agent read from a config file in another library's format
    (:meth:`Agent.read_foreign_config`): hyperparameters of its ``Config`` and, if the file
    says, a budget (``{"steps": N}`` or ``{"episodes": N}``)."""

    hyperparameters: dict[str, Any]
    budget: dict[str, int] | None = None
    #: The format, for messages and ``--dry-run``: ``"rl-baselines3-zoo (CartPole-v1)"``.
    format: str = ""
    #: Hyperparameters that are a fraction of the budget's env steps (rl-baselines3-zoo's
    #: schedules span ``n_timesteps``): ``{"schedule_steps": 1.0}``. When a run's ``--steps`` is
    #: not the file's budget, each becomes fraction × the run's steps, as rl_zoo3 does with ``-n``.
    #: Since plugin API 1.4.
    budget_fractions: dict[str, float] = field(default_factory=dict)
    #: Keyword arguments the env is made with (rl-baselines3-zoo's ``env_kwargs``), unless the
    #: run's ``--env-kwargs`` replaces them. Since plugin API 1.4.
    env_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class NoConfig:
    """This agent has no hyperparameters."""


@dataclass
class Iteration:
    """What one training iteration produced."""

    episode_returns: list[float]
    episode_lengths: list[int]
    env_steps: int
    metrics: dict[str, float] = field(default_factory=dict)
    #: For each episode, the env steps of this iteration done when it ended (counted as
    #: ``env_steps`` counts them), so that ``returns.csv`` and curves put every episode at its own
    #: env step; negative for an episode that ended in earlier steps that reported it in no
    #: iteration (the budget ended before an update). None: every episode at the end of the iteration.
    episode_steps: list[int] | None = None
    #: The env steps this iteration learned from, when not just its episodes' (``episode_lengths``):
    #: REINFORCE's last update also learns the unfinished episodes the step budget cut, and reports
    #: an episode an earlier cut learned part of whole. ``progress.csv``'s ``rollout/executed_to_used``
    #: divides by their sum. None: the sum of ``episode_lengths``. Since plugin API 1.4.
    learned_steps: int | None = None


#: The default budget of an env no budget is known for (:func:`derived_budget`; docs/training.md).
STEPS_PER_BIT = 50_000
EPISODES_AT_LEAST = 100
MAX_DERIVED_STEPS = 1_000_000
#: The size a space counts for when gymnasium cannot flatten it (Graph, Sequence, ...).
UNFLATTENABLE_SIZE = 1024


@dataclass(frozen=True)
class DerivedBudget:
    """The budget derived from an env's spaces and time limit, and how it was derived."""

    steps: int
    reason: str


def _space_size(space: gymnasium.Space) -> int:
    try:
        return int(gymnasium.spaces.flatdim(space))
    except (ValueError, TypeError, NotImplementedError):
        return UNFLATTENABLE_SIZE


def derived_budget(env: EnvEntry) -> DerivedBudget:
    """The default budget of an env whose agent knows none for it: :data:`STEPS_PER_BIT` env
    steps per bit of the size of its spaces (the numbers of a flattened observation and action,
    a Discrete space counting one per value), at least :data:`EPISODES_AT_LEAST` episodes of its
    time limit if it has one, at most :data:`MAX_DERIVED_STEPS`."""
    size = _space_size(env.observation_space) + _space_size(env.action_space)
    bits = max(1, math.ceil(math.log2(1 + size)))
    steps, how = STEPS_PER_BIT * bits, f"{STEPS_PER_BIT:,} per bit of its spaces' size ({size} numbers: {bits} bits)"
    limit = env.time_limit
    if limit is not None and EPISODES_AT_LEAST * limit > steps:
        steps, how = EPISODES_AT_LEAST * limit, f"{EPISODES_AT_LEAST} episodes of its time limit ({limit} steps)"
    if steps > MAX_DERIVED_STEPS:
        steps, how = MAX_DERIVED_STEPS, f"the most the rule gives ({how} would be more)"
    return DerivedBudget(steps, f"derived from {env.gym_id}, no budget being known for it: {steps:,} env steps, "
                                f"{how}; choose with --steps or --episodes")


def supports_spaces(observation_space: gymnasium.Space, action_space: gymnasium.Space) -> str | None:
    """Why the built-in policy networks cannot handle these spaces, or None if they can: flat Box
    or Discrete observations (a Discrete state goes in one-hot encoded), Discrete or flat Box
    actions. ``Agent.unsupported_reason`` uses it unless an agent says otherwise."""
    flat_box = isinstance(observation_space, gymnasium.spaces.Box) and len(observation_space.shape) == 1
    if not (flat_box or isinstance(observation_space, gymnasium.spaces.Discrete)):
        return f"observations must be a flat Box or Discrete, got {observation_space}"
    if isinstance(action_space, gymnasium.spaces.Discrete):
        return None
    if isinstance(action_space, gymnasium.spaces.Box) and len(action_space.shape) == 1:
        return None
    return f"actions must be Discrete or a flat Box, got {action_space}"


def pretrained_name(agent: str, gym_id: str) -> str:
    """Folder (and Hub repo) name of a shipped checkpoint: ``reinforce-CartPole-v1``."""
    return f"{agent}-{gym_id.split('/')[-1]}"


class Agent(ABC):
    """Base class for zoo agents. Subclasses set ``Config`` to a dataclass of hyperparameters."""

    Config: ClassVar[type] = NoConfig
    #: Whether ``train_iteration`` is implemented; a fixed policy leaves it False.
    learns: ClassVar[bool] = True

    def __init__(self, env: EnvEntry, config: Any = None, seed: int = 0) -> None:
        self.env = env
        self.config = config if config is not None else self.Config()
        self.seed = seed

    #: The observations ``predict`` takes, when they are not the env's own (an agent that acts
    #: behind env wrappers, such as rl-baselines3-zoo's Atari preprocessing); None: the env's.
    policy_observation_space: gymnasium.Space | None = None

    # -- what it can run on and how it is configured -------------------------------------------
    @classmethod
    def unsupported_reason(cls, env: EnvEntry) -> str | None:
        """Why this agent cannot run on ``env``, or None if it can."""
        return supports_spaces(env.observation_space, env.action_space)

    #: ``(package, file name)`` of a TOML file of per-env defaults: one ``[KEY."gym-id"]`` table
    #: of hyperparameters per env (KEY is ``defaults_key``), each with an optional
    #: ``budget = { steps = N }`` or ``{ episodes = N }`` for ``zoo train``'s default length.
    defaults_file: ClassVar[tuple[str, str] | None] = None
    defaults_key: ClassVar[str] = ""
    #: Training budget for envs whose table names none; None (the default): the budget
    #: :func:`derived_budget` derives from the env's spaces and time limit.
    fallback_budget: ClassVar[dict[str, int] | None] = None

    @classmethod
    def _env_section(cls, env: EnvEntry) -> dict[str, Any]:
        if cls.defaults_file is None:
            return {}
        return read_env_defaults(*cls.defaults_file, cls.defaults_key, env.gym_id)

    @classmethod
    def env_defaults(cls, env: EnvEntry) -> dict[str, Any]:
        """Hyperparameter overrides this agent recommends for ``env`` (data, not code)."""
        section = cls._env_section(env)
        section.pop("budget", None)
        section.pop("search", None)
        return section

    @classmethod
    def search_space(cls, env: EnvEntry) -> dict[str, Any]:
        """What ``zoo tune`` searches on ``env``, as data: ``{name: {low = A, high = B[, log = true]
        [, step = S]}}`` or ``{name: {choices = [...]}}``. With ``defaults_file``, the
        ``[KEY.search]`` table, updated by the env's own ``[KEY."gym-id".search]``."""
        if cls.defaults_file is None:
            return {}
        import tomllib
        from importlib import resources

        package, filename = cls.defaults_file
        text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
        table = tomllib.loads(text).get(cls.defaults_key, {})
        space = dict(table.get("search", {}))
        space.update(table.get(env.gym_id, {}).get("search", {}))
        return space

    @classmethod
    def default_budget(cls, env: EnvEntry) -> dict[str, int]:
        """How long ``zoo train`` runs by default: ``{"steps": N}`` or ``{"episodes": N}``. The
        env's table in ``defaults_file`` says, else ``fallback_budget``, else the budget derived
        from the env (:func:`derived_budget`)."""
        derived = cls._derived_budget_for(env)
        return {"steps": derived.steps} if derived is not None else dict(cls._known_budget(env))

    @classmethod
    def _known_budget(cls, env: EnvEntry) -> Mapping[str, int] | None:
        return cls._env_section(env).get("budget", cls.fallback_budget)

    @classmethod
    def _derived_budget_for(cls, env: EnvEntry) -> DerivedBudget | None:
        """The budget :meth:`default_budget` derives from ``env`` (:func:`derived_budget`), or None
        when the agent's defaults table or ``fallback_budget`` knows one: a budget that merely
        equals the derived one is not derived."""
        return derived_budget(env) if cls._known_budget(env) is None else None

    @classmethod
    def min_training_steps(cls, env: EnvEntry, config: Any) -> int:
        """The fewest env steps a run's step budget must allow for this agent, with ``config``,
        to update at all on ``env`` (every copy of its envs steps at once; an update may wait
        for more): a smaller ``--steps`` is refused before anything is written
        (:class:`zoo.BudgetTooSmall`). Default: 1. Since plugin API 1.4."""
        return 1

    #: Hyperparameters this agent renamed, old name -> new name: a user who gives an old name
    #: is told the new one, and checkpoints saved with old names still load.
    renamed_hyperparameters: ClassVar[dict[str, str]] = {}

    @classmethod
    def read_foreign_config(cls, data: dict[str, Any], env: EnvEntry) -> ForeignConfig | None:
        """A config file (``zoo train --config FILE``) whose content is not the zoo's own format
        (top-level ``agent``, ``env``, ``seed``, ``budget``, ``hyperparameters``), as this agent's
        hyperparameters and budget for ``env``; None if the agent does not read this format.
        ``data`` is the parsed file (TOML or YAML), never code. Raise :class:`zoo.ZooError`
        for a file in the agent's format that it cannot honour."""
        return None

    #: ``(package, folder)`` where the agent's plugin ships trained checkpoints, one folder per env
    #: named ``pretrained_name(defaults_key, gym_id)`` (``zoo build-pretrained ... --out`` writes them).
    pretrained_folder: ClassVar[tuple[str, str] | None] = None

    @classmethod
    def pretrained_checkpoint(cls, env: EnvEntry) -> Path | None:
        """A trained checkpoint for ``env`` shipped with this agent's plugin, if there is one."""
        if cls.pretrained_folder is None:
            return None
        from importlib import resources

        package, folder = cls.pretrained_folder
        path = Path(str(resources.files(package))) / folder / pretrained_name(cls.defaults_key, env.gym_id)
        return path if (path / "zoo.json").is_file() else None

    @classmethod
    def load_policy(cls, env: EnvEntry, config: Any, tensors: dict[str, np.ndarray],
                    seed: int = 0) -> PolicyPredictor | None:
        """A policy that acts as this agent does after ``load_state_tensors(tensors)``, built from
        the checkpoint's tensors as numpy arrays without the agent's learning machinery (torch,
        optimisers), for processes that only act: ``zoo eval``, ``record``, ``push``. ``None``
        (the default): the whole agent is built and loaded instead. Raise ``KeyError`` or
        ``ValueError`` for tensors that do not fit ``config``."""
        return None

    # -- acting ----------------------------------------------------------------------------------
    @abstractmethod
    def predict(
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Actions for a batch of observations (SB3's ``PolicyPredictor.predict``)."""

    # -- learning --------------------------------------------------------------------------------
    def start_training(self, make_envs: Callable[[int], gymnasium.vector.VectorEnv]) -> None:
        """Prepare to train; ``make_envs(n)`` builds a vector env of ``n`` copies, seeded and
        reset once by the zoo: its first ``reset()`` returns that start, whatever seed it is
        passed. When a run is resumed, the envs are where the checkpointed run left them, and
        their first ``reset`` returns that (the saved random streams continue)."""
        raise NotImplementedError(f"{type(self).__name__} does not learn")

    #: Env steps the run's step budget leaves, set by the zoo's loop before every
    #: ``train_iteration`` (None: no step budget, or no loop). An agent whose iteration would run
    #: past it may do less: the SB3 agents learn at most this much, so a run's ``num_timesteps`` is
    #: SB3's ``model.learn(N)``'s. Since plugin API 1.4.
    steps_left: int | None = None

    def train_iteration(self) -> Iteration:
        """Collect experience and update once."""
        raise NotImplementedError(f"{type(self).__name__} does not learn")

    def stop_training(self) -> None:  # noqa: B027  (optional: most agents hold nothing to release)
        """Release what ``start_training`` acquired (vector envs, worker processes)."""

    # -- state -----------------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, Any]:
        """Everything needed to act again, as named torch tensors (saved with safetensors)."""
        return {}

    def load_state_tensors(self, tensors: dict[str, Any]) -> None:  # noqa: B027  (optional, as state_tensors)
        """Restore what ``state_tensors`` returned."""

    def training_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """What training needs beyond ``state_tensors`` to continue exactly where it stopped, as
        ``(tensors, data)``: named torch tensors (optimiser moments, torch generator states) and
        JSON-ready data (optimiser settings, numpy generator states). Saved with safetensors and
        JSON, never pickled; helpers: :func:`zoo.optimizer_state`, :func:`zoo.numpy_rng_state` and
        their inverses. Called only between
        iterations. The default raises ``NotImplementedError``: the agent's runs cannot resume."""
        raise NotImplementedError(f"{type(self).__name__} cannot resume training")

    def load_training_state(self, tensors: dict[str, Any], data: dict[str, Any]) -> None:
        """Restore what ``training_state`` returned; called after ``load_state_tensors`` and
        before ``start_training``. Raise ``KeyError`` or ``ValueError`` if it does not fit."""
        raise NotImplementedError(f"{type(self).__name__} cannot resume training")

    # -- export ----------------------------------------------------------------------------------
    #: Formats ``export`` writes (``zoo export --format``), each with its file suffix:
    #: ``{"onnx": ".onnx"}``.
    export_formats: ClassVar[dict[str, str]] = {}

    def export(self, path: Path, format: str) -> None:
        """Write the policy to ``path`` in ``format`` (one of ``export_formats``), for tools outside
        the zoo. The zoo writes to a temporary name and renames it into place."""
        raise NotImplementedError(f"{type(self).__name__} exports no format")

    def export_extras(self, format: str) -> dict[str, str]:
        """Files that go beside an export in ``format``: ``{file name: format}``, each written by
        ``export`` in that format (one of ``export_formats``) into the folder of the main file.
        The SB3 agents' normalised runs give ``{"vecnormalize.pkl": "vecnormalize"}``: SB3 keeps
        VecNormalize's statistics in a file of their own. Default: none. Since plugin API 1.3."""
        return {}
