"""Agent plugin: stable-baselines3 algorithms as zoo agents (``sb3-ppo``, ``sb3-a2c``,
``sb3-dqn``, ``sb3-sac``, ``sb3-td3``, ``sb3-ddpg``).

``zoo train sb3-ppo cartpole`` trains with SB3 itself, driven one chunk at a time by the zoo's
loop: each ``train_iteration`` is one ``model.learn(iteration_steps, reset_num_timesteps=False)``,
and the episode returns come from the ``Monitor`` infos SB3 sees. The state saved in a zoo
checkpoint is ``model.policy.state_dict()`` as safetensors, never an SB3 zip (those hold pickles).

SB3 steps its own VecEnv (a Monitor-wrapped ``DummyVecEnv`` of the zoo env, seeded with the
agent's seed), because it cannot step gymnasium's vector envs; ``make_envs`` is not used.
Hyperparameters default to SB3's own defaults; per-env tuned values are data, in
``sb3_defaults.toml``; rl-baselines3-zoo's hyperparameter files are read as they are
(``zoo train sb3-ppo CartPole-v1 --config ppo.yml``, see :mod:`zoo.agents.rl_zoo`).

Like rl-baselines3-zoo, ``learning_rate`` and ``clip_range`` may be ``lin_<x>``: x falling
linearly to 0 over ``schedule_steps`` env steps; ``norm_obs`` / ``norm_reward`` run the model
behind SB3's ``VecNormalize``, whose running statistics are saved in the checkpoint as tensors
and normalise observations when acting.
Trained checkpoints ship in ``pretrained/`` beside the REINFORCE ones.
"""

from __future__ import annotations

import importlib
import reprlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Literal

import gymnasium
import numpy as np

import zoo
from zoo import Agent, EnvEntry, ForeignConfig, Iteration, ZooError, hookimpl, hyperparameter

from .sb3_her import HER_DESCRIPTION, HER_FIELDS, HERFields, her_kwargs, is_goal_space

#: Config fields the zoo uses itself; every other field is an argument of the SB3 constructor.
_ZOO_FIELDS = {"net_arch", "activation", "n_envs", "iteration_steps", "exploration_steps", "log_std_init",
               "ortho_init", "norm_obs", "norm_reward", "schedule_steps", "noise_std", "noise_type", "env_wrapper",
               "frame_stack", "policy", "use_expln", "critic_arch", "optimizer", "optimizer_eps", "device",
               "vec_env", *HER_FIELDS}
#: Fields that take rl-baselines3-zoo's ``lin_<x>`` schedules.
SCHEDULED = ("learning_rate", "clip_range")
#: Hidden-layer activations, by the name a config uses, and torch's class name.
ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "elu": "ELU", "gelu": "GELU", "leaky_relu": "LeakyReLU",
               "silu": "SiLU"}
Activation = Literal["tanh", "relu", "elu", "gelu", "leaky_relu", "silu"]
Device = Literal["auto", "cpu", "cuda"]
VecEnvKind = Literal["dummy", "subproc"]


_help = hyperparameter  # short name: every config field below uses it

#: Memory-bounded ranges, checked before anything is built or written: SB3 allocates its
#: rollout and replay buffers in the constructor, so a typo would otherwise be a MemoryError.
_RANGES: dict[str, tuple[float, float]] = {
    "n_envs": (1, 256), "n_steps": (1, 1_000_000), "batch_size": (1, 1_000_000), "n_epochs": (1, 1000),
    "buffer_size": (1, 10_000_000), "learning_starts": (0, 10**12), "train_freq": (1, 1_000_000),
    "gradient_steps": (-1, 10_000), "target_update_interval": (1, 10**12), "exploration_steps": (0, 10**12),
    "iteration_steps": (0, 10**9), "gamma": (0.0, 1.0), "gae_lambda": (0.0, 1.0), "tau": (0.0, 1.0),
    "exploration_initial_eps": (0.0, 1.0), "exploration_final_eps": (0.0, 1.0), "clip_range": (0.0, 1e30),
    "ent_coef": (0.0, 1e30), "vf_coef": (0.0, 1e30), "max_grad_norm": (0.0, 1e30), "learning_rate": (1e-30, 1e30),
    "log_std_init": (-1e30, 1e30), "frame_stack": (0, 64), "n_critics": (1, 64), "n_quantiles": (1, 10_000),
    "lstm_hidden_size": (1, 4096), "n_delta": (1, 10_000), "delta_std": (1e-30, 1e30), "cg_max_steps": (1, 10_000),
    "n_critic_updates": (1, 10_000), "sub_sampling_factor": (1, 10_000), "top_quantiles_to_drop_per_net": (0, 10_000),
    "policy_delay": (1, 10_000), "target_kl": (0.0, 1e30), "cg_damping": (0.0, 1e30),
    "n_sampled_goal": (0, 1000),
}
MAX_LAYERS, MAX_WIDTH, MAX_WEIGHTS, MAX_ROLLOUT = 16, 4096, 10_000_000, 10_000_000


def _is_ent_coef(text: str) -> bool:
    """SAC's ``ent_coef``: a number, ``auto`` or ``auto_<initial value>``, the initial value positive."""
    number = text[len("auto_"):] if text.startswith("auto_") else None if text == "auto" else text
    if number is None:
        return True
    try:
        value = float(number)
    except ValueError:
        return False
    return 0 <= value <= 1e30 and (value > 0 or not text.startswith("auto"))


def linear_start(value: float | str) -> float | None:
    """x of a ``lin_<x>`` schedule, or None for a constant."""
    if isinstance(value, str) and value.startswith("lin_"):
        return float(value[len("lin_"):])
    return None


class SB3Checks:
    """Checks shared by the SB3 agents' configs (``Config.validate``)."""

    def validate(self) -> None:
        scheduled = False
        for name in SCHEDULED:
            value = getattr(self, name, None)
            if not isinstance(value, str):
                continue
            try:
                start = linear_start(value)
            except ValueError:
                start = None
            if start is None or not start > 0 or start == float("inf"):
                raise ZooError(f"{name}={reprlib.repr(value)} is neither a number nor lin_<x> (x > 0: falls linearly "
                               "to 0)")
            scheduled = True
        if scheduled and self.schedule_steps < 1:
            raise ZooError("a lin_<x> schedule needs schedule_steps, the env steps over which it falls to 0 "
                           "(--set schedule_steps=N)")
        self._check_ranges()
        if self.iteration_steps == 0 and not hasattr(self, "n_steps"):
            raise ZooError("iteration_steps=0 (one rollout) is for the on-policy agents, which have n_steps; "
                           "give a number of env steps")
        from zoo.agents.sb3_wrappers import check_specs

        check_specs(getattr(self, "env_wrapper", ()))
        critic = getattr(self, "critic_arch", ())
        if len(critic) > MAX_LAYERS or not all(1 <= h <= MAX_WIDTH for h in critic):
            raise ZooError(f"hyperparameter critic_arch={reprlib.repr(critic)} is out of range (valid: at most "
                           f"{MAX_LAYERS} layers of 1 to {MAX_WIDTH} units; empty: as net_arch)")

    def _check_ranges(self) -> None:
        """Every field in its range (``_RANGES``): memory-bounded, checked before anything is built.
        A ``lin_<x>`` schedule starts at x: x has the range of the plain value."""
        def refuse(name: str, valid: str) -> None:
            raise ZooError(f"hyperparameter {name}={reprlib.repr(getattr(self, name))} is out of range "
                           f"(valid: {valid})")

        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SCHEDULED and isinstance(value, str):
                value = linear_start(value)
            if f.name in _RANGES and isinstance(value, (int, float)) and not isinstance(value, bool):
                low, high = _RANGES[f.name]
                if not low <= value <= high:
                    refuse(f.name, " to ".join(f"{v:,}" if isinstance(v, int) else f"{v:g}" for v in (low, high)))
        arch = self.net_arch
        if len(arch) > MAX_LAYERS or not all(1 <= h <= MAX_WIDTH for h in arch) or \
                sum(a * b for a, b in zip(arch, arch[1:])) > MAX_WEIGHTS:
            refuse("net_arch", f"at most {MAX_LAYERS} layers of 1 to {MAX_WIDTH} units, {MAX_WEIGHTS:,} weights "
                   "between them")
        ent_coef = getattr(self, "ent_coef", 0.0)
        if isinstance(ent_coef, str) and not _is_ent_coef(ent_coef):
            refuse("ent_coef", "a number >= 0, 'auto' or 'auto_<initial value>'")
        if getattr(self, "n_steps", 1) * self.n_envs > MAX_ROLLOUT:
            refuse("n_steps", f"n_steps × n_envs at most {MAX_ROLLOUT:,}")


_LR = "learning rate, or lin_<x>: x falling linearly to 0 over schedule_steps"
_SCHEDULE_STEPS = "env steps over which lin_<x> schedules fall to 0 (rl-baselines3-zoo's n_timesteps)"
_NORM_OBS = "normalise observations with running statistics (SB3's VecNormalize; saved with the checkpoint)"
_NORM_REWARD = "normalise rewards for learning with a running estimate of the return's scale (VecNormalize)"
_ENV_WRAPPER = ("gymnasium/SB3/rl_zoo3 wrappers around each env, innermost first (rl-baselines3-zoo's env_wrapper: "
                "PATH or PATH {json arguments}, from a fixed known set)")
_ROLLOUTS = ("env steps per zoo iteration (one model.learn call; whole rollouts); 0: one rollout, n_envs × n_steps, "
             "as SB3 logs with log_interval=1")
_DEVICE = "torch device: cpu, cuda, or auto (cuda if there is one); SB3 falls back to cpu without cuda"
_VEC_ENV = ("SB3's VecEnv of the n_envs copies: dummy (DummyVecEnv, one process) or subproc (SubprocVecEnv, one "
            "process per copy; a resume starts every copy on a new episode)")
_FRAME_STACK = "stack this many frames (SB3's VecFrameStack; 0: none)"
_USE_EXPLN = "gSDE: exp() and log1p() instead of exp() for the std, which then stays positive (use_sde only)"


@dataclass
class PPOConfig(SB3Checks):
    """PPO hyperparameters (SB3's defaults)."""

    learning_rate: float | str = _help(f"Adam {_LR}", 3e-4)
    n_steps: int = _help("steps per env per rollout", 2048)
    batch_size: int = _help("minibatch size", 64)
    n_epochs: int = _help("passes over each rollout", 10)
    gamma: float = _help("discount factor", 0.99)
    gae_lambda: float = _help("GAE lambda", 0.95)
    clip_range: float | str = _help("PPO clipping parameter, or lin_<x>", 0.2)
    normalize_advantage: bool = _help("normalise advantages", True)
    ent_coef: float = _help("entropy bonus weight", 0.0)
    vf_coef: float = _help("value loss weight", 0.5)
    max_grad_norm: float = _help("gradient norm clip", 0.5)
    use_sde: bool = _help("generalised state-dependent exploration (Box actions)", False)
    sde_sample_freq: int = _help("sample a new gSDE noise matrix every N steps (-1: once per rollout)", -1)
    use_expln: bool = _help(_USE_EXPLN, False)
    net_arch: tuple[int, ...] = _help("hidden layer sizes of policy and value networks", (64, 64))
    activation: Activation = _help("hidden-layer activation", "tanh")
    ortho_init: bool = _help("orthogonal initialisation of the networks", True)
    log_std_init: float = _help("initial log std of Gaussian actions", 0.0)
    n_envs: int = _help("envs stepped in parallel", 1)
    norm_obs: bool = _help(_NORM_OBS, False)
    norm_reward: bool = _help(_NORM_REWARD, False)
    schedule_steps: int = _help(_SCHEDULE_STEPS, 0)
    iteration_steps: int = _help(_ROLLOUTS, 2048)
    env_wrapper: tuple[str, ...] = _help(_ENV_WRAPPER, ())
    frame_stack: int = _help(_FRAME_STACK, 0)
    device: Device = _help(_DEVICE, "cpu")
    vec_env: VecEnvKind = _help(_VEC_ENV, "dummy")


@dataclass
class A2CConfig(SB3Checks):
    """A2C hyperparameters (SB3's defaults)."""

    learning_rate: float | str = _help(f"optimiser {_LR}", 7e-4)
    n_steps: int = _help("steps per env per update", 5)
    gamma: float = _help("discount factor", 0.99)
    gae_lambda: float = _help("GAE lambda (1 = plain n-step returns)", 1.0)
    ent_coef: float = _help("entropy bonus weight", 0.0)
    vf_coef: float = _help("value loss weight", 0.5)
    max_grad_norm: float = _help("gradient norm clip", 0.5)
    use_rms_prop: bool = _help("RMSprop (else Adam)", True)
    optimizer: Literal["default", "RMSpropTFLike"] = _help(
        "the optimiser: as use_rms_prop says, or SB3's RMSpropTFLike (TensorFlow's RMSprop, rl-zoo's Atari A2C)",
        "default")
    optimizer_eps: float = _help("eps of the optimiser named by optimizer (0: its default)", 0.0)
    normalize_advantage: bool = _help("normalise advantages", False)
    use_sde: bool = _help("generalised state-dependent exploration (Box actions)", False)
    sde_sample_freq: int = _help("sample a new gSDE noise matrix every N steps (-1: once per rollout)", -1)
    use_expln: bool = _help(_USE_EXPLN, False)
    net_arch: tuple[int, ...] = _help("hidden layer sizes of policy and value networks", (64, 64))
    activation: Activation = _help("hidden-layer activation", "tanh")
    ortho_init: bool = _help("orthogonal initialisation of the networks", True)
    log_std_init: float = _help("initial log std of Gaussian actions", 0.0)
    n_envs: int = _help("envs stepped in parallel", 1)
    norm_obs: bool = _help(_NORM_OBS, False)
    norm_reward: bool = _help(_NORM_REWARD, False)
    schedule_steps: int = _help(_SCHEDULE_STEPS, 0)
    iteration_steps: int = _help(_ROLLOUTS, 2000)
    env_wrapper: tuple[str, ...] = _help(_ENV_WRAPPER, ())
    frame_stack: int = _help(_FRAME_STACK, 0)
    device: Device = _help(_DEVICE, "cpu")
    vec_env: VecEnvKind = _help(_VEC_ENV, "dummy")


@dataclass
class DQNConfig(SB3Checks, HERFields):
    """DQN hyperparameters (SB3's defaults, with a smaller replay buffer)."""

    learning_rate: float | str = _help(f"Adam {_LR}", 1e-4)
    buffer_size: int = _help("replay buffer capacity", 100_000)
    learning_starts: int = _help("env steps before the first update", 100)
    batch_size: int = _help("minibatch size", 32)
    tau: float = _help("target network soft-update coefficient (1 = hard copy)", 1.0)
    gamma: float = _help("discount factor", 0.99)
    train_freq: int = _help("env steps between updates", 4)
    gradient_steps: int = _help("gradient steps per update (-1: as many as env steps)", 1)
    target_update_interval: int = _help("env steps between target network updates", 10_000)
    exploration_initial_eps: float = _help("initial epsilon", 1.0)
    exploration_final_eps: float = _help("final epsilon", 0.05)
    exploration_steps: int | float = _help("env steps over which epsilon decays linearly (counted over the whole "
                                           "run; rl-zoo's exploration_fraction × the run's steps)", 10_000)
    max_grad_norm: float = _help("gradient norm clip", 10.0)
    optimize_memory_usage: bool = _help("keep each observation once in the replay buffer (SB3's "
                                        "optimize_memory_usage)", False)
    net_arch: tuple[int, ...] = _help("hidden layer sizes of the Q network", (64, 64))
    activation: Activation = _help("hidden-layer activation", "relu")
    n_envs: int = _help("envs stepped in parallel", 1)
    norm_obs: bool = _help(_NORM_OBS, False)
    norm_reward: bool = _help(_NORM_REWARD, False)
    schedule_steps: int = _help(_SCHEDULE_STEPS, 0)
    iteration_steps: int = _help("env steps per zoo iteration (one model.learn call)", 1000)
    env_wrapper: tuple[str, ...] = _help(_ENV_WRAPPER, ())
    frame_stack: int = _help(_FRAME_STACK, 0)
    device: Device = _help(_DEVICE, "cpu")
    vec_env: VecEnvKind = _help(_VEC_ENV, "dummy")


@dataclass
class SACConfig(SB3Checks, HERFields):
    """SAC hyperparameters (SB3's defaults, with a smaller replay buffer)."""

    learning_rate: float | str = _help(f"Adam {_LR}", 3e-4)
    buffer_size: int = _help("replay buffer capacity", 100_000)
    learning_starts: int = _help("env steps before the first update", 100)
    batch_size: int = _help("minibatch size", 256)
    tau: float = _help("target network soft-update coefficient", 0.005)
    gamma: float = _help("discount factor", 0.99)
    train_freq: int = _help("env steps between updates", 1)
    gradient_steps: int = _help("gradient steps per update (-1: as many as env steps)", 1)
    ent_coef: str = _help("entropy weight: a number, 'auto' or 'auto_<initial value>'", "auto")
    use_sde: bool = _help("generalised state-dependent exploration", False)
    sde_sample_freq: int = _help("sample a new gSDE noise matrix every N steps (-1: once per rollout)", -1)
    use_expln: bool = _help(_USE_EXPLN, False)
    use_sde_at_warmup: bool = _help("gSDE instead of uniform random actions before learning starts", False)
    log_std_init: float = _help("initial log std of the actor", -3.0)
    net_arch: tuple[int, ...] = _help("hidden layer sizes of actor and critics", (256, 256))
    activation: Activation = _help("hidden-layer activation", "relu")
    n_envs: int = _help("envs stepped in parallel", 1)
    norm_obs: bool = _help(_NORM_OBS, False)
    norm_reward: bool = _help(_NORM_REWARD, False)
    schedule_steps: int = _help(_SCHEDULE_STEPS, 0)
    iteration_steps: int = _help("env steps per zoo iteration (one model.learn call)", 1000)
    env_wrapper: tuple[str, ...] = _help(_ENV_WRAPPER, ())
    frame_stack: int = _help(_FRAME_STACK, 0)
    device: Device = _help(_DEVICE, "cpu")
    vec_env: VecEnvKind = _help(_VEC_ENV, "dummy")


@dataclass
class DDPGConfig(SB3Checks, HERFields):
    """DDPG hyperparameters (SB3's defaults, with a smaller replay buffer and Gaussian action noise)."""

    learning_rate: float | str = _help(f"Adam {_LR} (actor and critic)", 1e-3)
    buffer_size: int = _help("replay buffer capacity", 100_000)
    learning_starts: int = _help("env steps before the first update", 100)
    batch_size: int = _help("minibatch size", 256)
    tau: float = _help("target network soft-update coefficient", 0.005)
    gamma: float = _help("discount factor", 0.99)
    train_freq: int = _help("env steps between updates", 1)
    gradient_steps: int = _help("gradient steps per update (-1 = as many as env steps since the last)", 1)
    # SB3 adds no exploration noise unless given an action_noise object; a deterministic actor
    # then never explores, so the zoo adds N(0, noise_std) per action dimension (0 = none).
    noise_std: float = _help("std of the exploration noise added to actions (0 = none)", 0.1)
    noise_type: Literal["normal", "ornstein-uhlenbeck"] = _help(
        "the action noise: Gaussian, or Ornstein-Uhlenbeck (correlated in time)", "normal")
    net_arch: tuple[int, ...] = _help("hidden layer sizes of actor and critic", (400, 300))
    activation: Activation = _help("hidden-layer activation", "relu")
    n_envs: int = _help("envs stepped in parallel", 1)
    norm_obs: bool = _help(_NORM_OBS, False)
    norm_reward: bool = _help(_NORM_REWARD, False)
    schedule_steps: int = _help(_SCHEDULE_STEPS, 0)
    iteration_steps: int = _help("env steps per zoo iteration (one model.learn call)", 1000)
    env_wrapper: tuple[str, ...] = _help(_ENV_WRAPPER, ())
    frame_stack: int = _help(_FRAME_STACK, 0)
    device: Device = _help(_DEVICE, "cpu")
    vec_env: VecEnvKind = _help(_VEC_ENV, "dummy")


@dataclass
class TD3Config(DDPGConfig):
    """TD3 hyperparameters (SB3's defaults, with a smaller replay buffer and Gaussian action noise)."""

    policy_delay: int = _help("critic updates per actor (and target) update", 2)
    target_policy_noise: float = _help("std of the noise added to target actions (smoothing)", 0.2)
    target_noise_clip: float = _help("clip of the target-action noise", 0.5)


class RunSchedule:
    """rl-baselines3-zoo's ``lin_<x>``, counted over the whole run: x at step 0, falling linearly
    to 0 at ``steps`` env steps. SB3 computes a schedule's progress within one ``learn()`` call,
    and the zoo calls ``learn()`` once per iteration, so the schedule reads the model's own step
    count instead (as the DQN epsilon does). Pickled (an exported SB3 zip), it becomes SB3's
    constant schedule at its current value: the zip needs nothing from the zoo."""

    def __init__(self, initial: float, steps: int) -> None:
        self.initial, self.steps = initial, steps
        self.model: Any = None  # set once the model exists; until then, the initial value

    def __call__(self, _progress_remaining: float) -> float:
        done = self.model.num_timesteps if self.model is not None else 0
        return self.initial * max(0.0, 1.0 - done / self.steps)

    def __reduce__(self):
        from stable_baselines3.common.utils import ConstantSchedule

        return ConstantSchedule, (self(1.0),)


def _training_vec_env(env: Any, n_envs: int, wrappers: tuple[str, ...] = (), kind: str = "dummy") -> Any:
    """SB3's VecEnv for training (``kind``: DummyVecEnv, or SubprocVecEnv as rl-baselines3-zoo's
    ``--vec-env subproc``): Monitor-wrapped copies of the zoo env, each of which can replay
    its current episode on resume (:class:`zoo.agents.sb3_state.ReplayableEnv`). The algorithm
    seeds it, once, with the agent's seed (SB3's ``set_random_seed``: copy ``i`` gets ``seed + i``)."""
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from zoo.agents.sb3_state import ReplayableEnv

    # Envs without a time limit of their own get the zoo's episode cap, as in every other loop.
    cap = zoo.episode_step_cap(env)
    from zoo.agents.sb3_wrappers import wrap

    # rl-baselines3-zoo's env_wrapper goes around the Monitor, as SB3's make_vec_env puts it: the
    # episodes logged are the env's own (an Atari game's, not one life's).
    vec_env = SubprocVecEnv if kind == "subproc" else DummyVecEnv
    return vec_env([lambda: wrap(Monitor(ReplayableEnv(zoo.make_env(env, max_episode_steps=cap))), wrappers)] * n_envs)


def _monitors(vec_env: Any) -> list[Any]:
    """The Monitor inside each env of an SB3 VecEnv (under its VecNormalize, frame stack and wrappers)."""
    from stable_baselines3.common.monitor import Monitor

    found = []
    for env in vec_env.unwrapped.envs:
        while not isinstance(env, Monitor):
            env = env.env
        found.append(env)
    return found


def epsilon(step: int, initial: float, final: float, decay_steps: int) -> float:
    """Linearly decayed exploration rate after ``step`` env steps of the whole run."""
    if decay_steps <= 0:
        return final
    return initial + (final - initial) * min(1.0, step / decay_steps)


#: Observation spaces the SB3 agents take: images (a Box SB3 recognises as one) through
#: ``CnnPolicy``, everything else through ``MlpPolicy``, which one-hot encodes Discrete and
#: MultiDiscrete observations and flattens Boxes. Dict and Tuple spaces are refused.
OBSERVATION_SPACES = (gymnasium.spaces.Box, gymnasium.spaces.Discrete, gymnasium.spaces.MultiDiscrete,
                      gymnasium.spaces.MultiBinary)


def policy_for(observation_space: gymnasium.Space) -> str:
    """SB3's policy for these observations: ``CnnPolicy`` for images, ``MultiInputPolicy`` for a
    goal env's Dict, else ``MlpPolicy``."""
    from stable_baselines3.common.preprocessing import is_image_space

    if is_goal_space(observation_space):
        return "MultiInputPolicy"
    return "CnnPolicy" if is_image_space(observation_space) else "MlpPolicy"


class SB3Agent(Agent):
    """A stable-baselines3 algorithm behind the zoo's Agent contract."""

    #: Name of the algorithm class in ``stable_baselines3``.
    algorithm: ClassVar[str] = ""
    defaults_file = ("zoo.agents", "sb3_defaults.toml")
    pretrained_folder = ("zoo.agents", "pretrained")
    #: SB3's policy for an env's observations (:mod:`zoo.agents.rl_zoo` checks a file's against it).
    policy_for = staticmethod(policy_for)
    #: Action space types the algorithm supports.
    action_spaces: ClassVar[tuple[type, ...]] = (gymnasium.spaces.Discrete, gymnasium.spaces.Box,
                                                 gymnasium.spaces.MultiDiscrete, gymnasium.spaces.MultiBinary)
    #: The package the algorithm class is in (sb3-contrib's agents: ``sb3_contrib``).
    library: ClassVar[str] = "stable_baselines3"
    #: Config fields that are arguments of the policy (``policy_kwargs``), not of the algorithm.
    policy_fields: ClassVar[tuple[str, ...]] = ()
    #: The ``net_arch`` key of the critic when ``critic_arch`` differs from ``net_arch``.
    critic_key: ClassVar[str] = "qf"
    #: Whether the episodes come from the Monitors' records rather than the step callback's
    #: infos (ARS runs its episodes outside SB3's rollout loop, and passes no infos).
    episodes_from_monitors: ClassVar[bool] = False

    def __init__(self, env: EnvEntry, config: Any = None, seed: int = 0) -> None:
        super().__init__(env, config, seed)
        zoo.use_torch_threads()
        cfg = self.config
        policy_kwargs = self.policy_kwargs(env)
        kwargs = {f.name: getattr(cfg, f.name) for f in fields(cfg)
                  if f.name not in _ZOO_FIELDS and f.name not in self.policy_fields}
        if getattr(cfg, "noise_std", 0.0) > 0:
            from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

            noise = OrnsteinUhlenbeckActionNoise if cfg.noise_type == "ornstein-uhlenbeck" else NormalActionNoise
            shape = env.action_space.shape
            kwargs["action_noise"] = noise(np.zeros(shape), cfg.noise_std * np.ones(shape))
        schedules = {}
        for name in SCHEDULED:
            start = linear_start(kwargs.get(name))
            if start is not None:
                kwargs[name] = schedules[name] = RunSchedule(start, cfg.schedule_steps)
        kwargs.update(self.extra_kwargs(env))
        if cfg.vec_env == "subproc" and self.episodes_from_monitors:
            raise ZooError(f"{self.algorithm} here reads its episodes from the Monitors of its envs, in this process: "
                           "vec_env must be dummy")
        self.vec_env = _training_vec_env(env, cfg.n_envs, getattr(cfg, "env_wrapper", ()), cfg.vec_env)
        self.normalizer = None
        if cfg.norm_obs or cfg.norm_reward:
            from stable_baselines3.common.vec_env import VecNormalize

            # rl-baselines3-zoo's normalize: the returns it scales rewards by use the algorithm's gamma.
            self.vec_env = self.normalizer = VecNormalize(self.vec_env, norm_obs=cfg.norm_obs,
                                                          norm_reward=cfg.norm_reward,
                                                          gamma=getattr(cfg, "gamma", 0.99))
        if getattr(cfg, "frame_stack", 0):
            from stable_baselines3.common.vec_env import VecFrameStack

            self.vec_env = VecFrameStack(self.vec_env, cfg.frame_stack)
        try:
            kwargs.update(her_kwargs(cfg, self.vec_env))  # HER on a goal env (zoo.agents.sb3_her)
        except ZooError:
            self.vec_env.close()
            raise
        algo = getattr(importlib.import_module(self.library), self.algorithm)
        try:
            self.model = algo(self.policy_name(env), self.vec_env, seed=seed, device=getattr(cfg, "device", "cpu"),
                              verbose=0,
                              policy_kwargs=policy_kwargs, **kwargs)
        except (AssertionError, ValueError, TypeError, OverflowError, MemoryError, RuntimeError) as exc:
            # SB3 checks combinations of values in its constructor (PPO's batch_size > 1, SAC's
            # ent_coef text): one line, before anything is written.
            self.vec_env.close()
            raise ZooError(f"stable-baselines3 {self.algorithm} refuses this config: {zoo.one_line(exc)}") from None
        for schedule in schedules.values():
            schedule.model = self.model
        if getattr(cfg, "env_wrapper", ()) or getattr(cfg, "frame_stack", 0):
            self.policy_observation_space = self.model.observation_space
        if hasattr(cfg, "exploration_steps"):
            # SB3 schedules against the total of one learn() call; the zoo calls learn() once per
            # iteration, so epsilon follows the run's own step count instead.
            model = self.model
            model.exploration_schedule = lambda _progress: epsilon(
                model.num_timesteps, cfg.exploration_initial_eps, cfg.exploration_final_eps, cfg.exploration_steps)

    def policy_name(self, env: EnvEntry) -> str:
        """The SB3 policy the model is built with (rl-zoo's ``policy``): chosen by the observations
        the model sees, those of the env behind its wrappers and frame stack."""
        return getattr(self.config, "policy", None) or self.policy_for(self.vec_env.observation_space)

    def policy_kwargs(self, env: EnvEntry) -> dict[str, Any]:
        """The policy's arguments: the network and the config's :attr:`policy_fields`."""
        import torch

        cfg = self.config
        kwargs: dict[str, Any] = {
            "net_arch": list(cfg.net_arch),
            "activation_fn": getattr(torch.nn, ACTIVATIONS[cfg.activation]),
        }
        if getattr(cfg, "critic_arch", ()):
            kwargs["net_arch"] = {"pi": list(cfg.net_arch), self.critic_key: list(cfg.critic_arch)}
        if hasattr(cfg, "log_std_init") and isinstance(env.action_space, gymnasium.spaces.Box):
            kwargs["log_std_init"] = cfg.log_std_init
        if hasattr(cfg, "ortho_init"):
            kwargs["ortho_init"] = cfg.ortho_init
        if getattr(cfg, "use_expln", False):  # passed only when set: SB3's default, and older policies
            kwargs["use_expln"] = True
        if getattr(cfg, "optimizer", "default") != "default":
            from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

            kwargs["optimizer_class"] = {"RMSpropTFLike": RMSpropTFLike}[cfg.optimizer]
            if cfg.optimizer_eps > 0:
                kwargs["optimizer_kwargs"] = {"eps": cfg.optimizer_eps}
        kwargs.update({name: getattr(cfg, name) for name in self.policy_fields})
        return kwargs

    def extra_kwargs(self, env: EnvEntry) -> dict[str, Any]:
        """Algorithm arguments built from the config rather than copied from it (none here)."""
        return {}

    # -- what it can run on and how it is configured -------------------------------------------
    @classmethod
    def unsupported_reason(cls, env: EnvEntry) -> str | None:
        obs = env.observation_space
        if not isinstance(obs, OBSERVATION_SPACES) and not is_goal_space(obs):
            wanted = ", ".join(t.__name__ for t in OBSERVATION_SPACES)
            return f"SB3 {cls.algorithm} here takes {wanted} observations (or a goal env's Dict), got {obs}"
        if not isinstance(env.action_space, cls.action_spaces):
            wanted = " or ".join(t.__name__ for t in cls.action_spaces)
            return f"SB3 {cls.algorithm} needs {wanted} actions, got {env.action_space}"
        return None

    @classmethod
    def read_foreign_config(cls, data: dict[str, Any], env: EnvEntry) -> ForeignConfig | None:
        """rl-baselines3-zoo's hyperparameter files (``hyperparams/ppo.yml``), see :mod:`zoo.agents.rl_zoo`."""
        from zoo.agents.rl_zoo import read_entry

        return read_entry(cls, data, env)

    # -- acting ----------------------------------------------------------------------------------
    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        if self.policy_observation_space is not None:
            wanted = self.policy_observation_space.shape
            if np.shape(observation)[-len(wanted):] != wanted:
                raise ZooError(f"{self.algorithm} here acts on the observations of its env_wrapper/frame_stack "
                               f"(shape {wanted}), not the env's own (shape {np.shape(observation)}); evaluate it "
                               "through its training logs, or its SB3 export with rl-baselines3-zoo")
        if self.normalizer is not None and self.config.norm_obs:
            # The statistics training ended with (or the checkpoint's); acting never updates them.
            observation = self.normalizer.normalize_obs(
                observation if isinstance(observation, dict) else np.asarray(observation))
        return self.model.predict(observation, state=state, episode_start=episode_start,
                                  deterministic=deterministic)

    # -- learning --------------------------------------------------------------------------------
    def start_training(self, make_envs) -> None:
        """SB3 steps the VecEnv made with the model; see the module docstring."""

    def stop_training(self) -> None:
        if self.config.vec_env == "subproc":
            self.model.env.close()  # its worker processes

    def train_iteration(self) -> Iteration:
        from stable_baselines3.common.callbacks import BaseCallback

        returns: list[float] = []
        lengths: list[int] = []
        ends: list[int] = []  # the iteration's env steps when each episode ended
        before = self.model.num_timesteps

        class CollectEpisodes(BaseCallback):
            def _on_step(self) -> bool:
                for info in self.locals.get("infos", ()):
                    episode = info.get("episode")
                    if episode is not None:  # added by Monitor when an episode ends
                        returns.append(float(episode["r"]))
                        lengths.append(int(episode["l"]))
                        ends.append(self.num_timesteps - before)  # SB3 counts the step before calling back
                return True

        monitors = _monitors(self.model.env) if self.episodes_from_monitors else []
        seen = [len(monitor.episode_returns) for monitor in monitors]
        cfg = self.config
        chunk = cfg.iteration_steps or cfg.n_envs * cfg.n_steps  # 0: one rollout, as SB3 itself logs
        if self.steps_left is not None:
            # learn() stops at the first rollout (update) boundary at or past its total; every call
            # ends on one, so a last call for what the budget leaves ends where SB3's learn(N) does.
            chunk = min(chunk, self.steps_left)
        self.model.learn(total_timesteps=chunk, callback=CollectEpisodes(),
                         reset_num_timesteps=False, log_interval=None)
        for monitor, count in zip(monitors, seen):
            returns += [float(r) for r in monitor.episode_returns[count:]]
            lengths += [int(n) for n in monitor.episode_lengths[count:]]
        # SB3's own keys (train/entropy_loss, rollout/exploration_rate, ...) go to the run's logs as
        # they are; episode and time statistics the zoo's loop computes itself, for every agent.
        logged = self.model.logger.name_to_value
        metrics = {key: float(value) for key, value in logged.items()
                   if not key.startswith(("time/", "rollout/ep_")) and isinstance(value, (int, float, np.number))}
        self.model.logger.dump(self.model.num_timesteps)  # writes nowhere at verbose=0; clears the values
        steps = self.model.num_timesteps - before
        if monitors:
            # Episodes read from the Monitors (ARS: whole episodes, one after another, outside SB3's
            # rollout loop): with one env, each ends at the sum of the lengths so far; with more, the
            # order is unknown, so they sit at the iteration's end.
            ends = [int(end) for end in np.cumsum(lengths)] if len(monitors) == 1 and sum(lengths) == steps else None
        return Iteration(returns, lengths, steps, metrics, episode_steps=ends)

    # -- export ----------------------------------------------------------------------------------
    #: ``vecnormalize``: the VecNormalize statistics of a normalised run, as SB3 pickles them.
    export_formats = {"sb3": ".zip", "vecnormalize": ".pkl"}

    def export_extras(self, format: str) -> dict[str, str]:
        """A normalised run's zip gets ``vecnormalize.pkl`` beside it (rl-baselines3-zoo's name),
        which SB3's ``VecNormalize.load`` opens."""
        return {VEC_NORMALIZE_FILE: "vecnormalize"} if format == "sb3" and self.normalizer is not None else {}

    def export(self, path: Path, format: str) -> None:
        """An SB3 zip that ``PPO.load`` (etc.) opens. The zoo's schedules close over the run, so
        the zip gets SB3's own constant schedule at their current value instead. ``vecnormalize``:
        the statistics, saved by ``VecNormalize.save``."""
        from stable_baselines3.common.utils import ConstantSchedule

        if format == "vecnormalize":
            if self.normalizer is None:
                raise ZooError("this agent does not normalise (norm_obs, norm_reward): no VecNormalize to export")
            self.normalizer.save(str(path))
            return
        model = self.model
        saved = getattr(model, "exploration_schedule", None)
        if saved is not None:
            model.exploration_schedule = ConstantSchedule(float(model.exploration_rate))
        try:
            model.save(path)
        finally:
            if saved is not None:
                model.exploration_schedule = saved

    # -- state -----------------------------------------------------------------------------------
    def _policy_state(self) -> tuple[dict[str, Any], set[str]]:
        return policy_state(self.model.policy)

    def state_tensors(self) -> dict[str, Any]:
        tensors = {f"policy.{k}": v for k, v in self._policy_state()[0].items()}
        if self.normalizer is not None:
            tensors.update(normalizer_tensors(self.normalizer))
        return tensors

    def load_state_tensors(self, tensors: dict[str, Any]) -> None:
        statistics = {k: v for k, v in tensors.items() if k.startswith(NORMALIZER_PREFIX)}
        extra = [k for k in tensors if not k.startswith("policy.") and k not in statistics]
        if extra:
            raise KeyError(f"unexpected tensors {sorted(extra)}")
        if (self.normalizer is None) != (not statistics):
            raise KeyError("the checkpoint's VecNormalize statistics do not match the config's norm_obs/norm_reward")
        if self.normalizer is not None:
            load_normalizer_tensors(self.normalizer, statistics)
        policy = {k[len("policy."):]: v for k, v in tensors.items() if k.startswith("policy.")}
        loaded = self.model.policy.load_state_dict(policy, strict=False)
        # Loading a tensor loads its aliases too; anything else missing or left over is a mismatch.
        missing = set(loaded.missing_keys) - self._policy_state()[1]
        if missing or loaded.unexpected_keys:
            raise KeyError(f"tensors missing {sorted(missing)}, unexpected {sorted(loaded.unexpected_keys)}")

    def training_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        # Optimisers, replay buffer, counters, random streams and how to replay each env's
        # current episode: see zoo.agents.sb3_state.
        from zoo.agents.sb3_state import training_state

        return training_state(self.model)

    def load_training_state(self, tensors: dict[str, Any], data: dict[str, Any]) -> None:
        from zoo.agents.sb3_state import load_training_state

        cfg = self.config
        envs = "restart" if getattr(cfg, "env_wrapper", ()) or getattr(cfg, "frame_stack", 0) or \
            cfg.vec_env == "subproc" else ("replay-unchecked" if self.episodes_from_monitors else "replay")
        load_training_state(self.model, tensors, data, envs=envs)


def policy_state(policy: Any) -> tuple[dict[str, Any], set[str]]:
    """An SB3 policy's state dict without aliases, and the aliases' names. A CNN policy's
    ``pi_features_extractor`` and ``vf_features_extractor`` are its ``features_extractor``:
    safetensors refuses tensors that share memory, so each is saved once, under its first name."""
    state, aliases, seen = {}, set(), set()
    for name, tensor in policy.state_dict().items():
        key = (tensor.data_ptr(), tuple(tensor.shape))
        if key in seen and tensor.numel():
            aliases.add(name)
        else:
            seen.add(key)
            state[name] = tensor
    return state, aliases


#: VecNormalize's statistics beside an exported zip, as rl-baselines3-zoo names the file.
VEC_NORMALIZE_FILE = "vecnormalize.pkl"
#: Prefix of the VecNormalize running statistics in a checkpoint's tensors.
NORMALIZER_PREFIX = "vec_normalize."
RETURNS_TENSOR = f"{NORMALIZER_PREFIX}returns"


def normalizer_tensors(normalizer: Any) -> dict[str, Any]:
    """VecNormalize's running mean, variance and count of observations and returns, as tensors:
    SB3 pickles them (``VecNormalize.save``); the zoo keeps them in safetensors."""
    import torch

    tensors = {}
    for name, rms in _running_statistics(normalizer).items():
        tensors[f"{NORMALIZER_PREFIX}{name}.mean"] = torch.as_tensor(np.asarray(rms.mean, dtype=np.float64))
        tensors[f"{NORMALIZER_PREFIX}{name}.var"] = torch.as_tensor(np.asarray(rms.var, dtype=np.float64))
        tensors[f"{NORMALIZER_PREFIX}{name}.count"] = torch.tensor(float(rms.count), dtype=torch.float64)
    # Each env's discounted return so far, which scales its rewards: without it a resumed run
    # normalises rewards differently (checkpoints before it have none: the returns start at 0).
    tensors[RETURNS_TENSOR] = torch.as_tensor(np.asarray(normalizer.returns, dtype=np.float64))
    return tensors


def _running_statistics(normalizer: Any) -> dict[str, Any]:
    """VecNormalize's RunningMeanStd objects by name; a Dict env's observations have one per key
    (``obs_rms.observation``, ...)."""
    found = {"ret_rms": normalizer.ret_rms}
    if isinstance(normalizer.obs_rms, dict):
        found.update({f"obs_rms.{key}": rms for key, rms in normalizer.obs_rms.items()})
    else:
        found["obs_rms"] = normalizer.obs_rms
    return found


def load_normalizer_tensors(normalizer: Any, tensors: dict[str, Any]) -> None:
    """Restore what :func:`normalizer_tensors` saved; shapes must match."""
    expected = set(normalizer_tensors(normalizer))
    if set(tensors) | {RETURNS_TENSOR} != expected:
        raise KeyError(f"VecNormalize statistics: expected {sorted(expected)}, got {sorted(tensors)}")
    if RETURNS_TENSOR in tensors:
        returns = tensors[RETURNS_TENSOR].numpy()
        if returns.shape != np.shape(normalizer.returns) or not np.isfinite(returns).all():
            raise ValueError(f"VecNormalize returns are not {np.shape(normalizer.returns)} finite numbers")
        normalizer.returns = returns.copy()
    for name, rms in _running_statistics(normalizer).items():
        mean = tensors[f"{NORMALIZER_PREFIX}{name}.mean"].numpy()
        if mean.shape != np.shape(rms.mean):
            raise ValueError(f"VecNormalize {name} has shape {mean.shape}, expected {np.shape(rms.mean)}")
        rms.mean = mean.copy()
        rms.var = tensors[f"{NORMALIZER_PREFIX}{name}.var"].numpy().copy()
        rms.count = float(tensors[f"{NORMALIZER_PREFIX}{name}.count"])



class SB3PPO(SB3Agent):
    """Proximal Policy Optimization (stable-baselines3)."""

    Config = PPOConfig
    algorithm = "PPO"
    defaults_key = "sb3-ppo"


class SB3A2C(SB3Agent):
    """Advantage Actor-Critic (stable-baselines3)."""

    Config = A2CConfig
    algorithm = "A2C"
    defaults_key = "sb3-a2c"


class SB3DQN(SB3Agent):
    """Deep Q-Network (stable-baselines3); Discrete actions."""

    Config = DQNConfig
    algorithm = "DQN"
    defaults_key = "sb3-dqn"
    action_spaces = (gymnasium.spaces.Discrete,)


class SB3SAC(SB3Agent):
    """Soft Actor-Critic (stable-baselines3); Box actions."""

    Config = SACConfig
    algorithm = "SAC"
    defaults_key = "sb3-sac"
    action_spaces = (gymnasium.spaces.Box,)


class SB3TD3(SB3Agent):
    """Twin Delayed DDPG (stable-baselines3); Box actions."""

    Config = TD3Config
    algorithm = "TD3"
    defaults_key = "sb3-td3"
    action_spaces = (gymnasium.spaces.Box,)


class SB3DDPG(SB3Agent):
    """Deep Deterministic Policy Gradient (stable-baselines3); Box actions."""

    Config = DDPGConfig
    algorithm = "DDPG"
    defaults_key = "sb3-ddpg"
    action_spaces = (gymnasium.spaces.Box,)


AGENTS = {"sb3-ppo": SB3PPO, "sb3-a2c": SB3A2C, "sb3-dqn": SB3DQN, "sb3-sac": SB3SAC, "sb3-td3": SB3TD3,
          "sb3-ddpg": SB3DDPG}
#: sb3-contrib's algorithms (:mod:`zoo.agents.sb3_contrib`, imported when one is used), named
#: ``sb3-`` + rl-baselines3-zoo's algorithm name with ``_`` as ``-``: class, and description.
CONTRIB_AGENTS = {
    "sb3-ars": ("SB3ARS", "ARS: Augmented Random Search"),
    "sb3-crossq": ("SB3CrossQ", "CrossQ: SAC with batch renormalisation and no target networks"),
    "sb3-qrdqn": ("SB3QRDQN", "QRDQN: Quantile Regression DQN"),
    "sb3-tqc": ("SB3TQC", "TQC: Truncated Quantile Critics"),
    "sb3-trpo": ("SB3TRPO", "TRPO: Trust Region Policy Optimization"),
    "sb3-ppo-lstm": ("SB3RecurrentPPO", "RecurrentPPO: PPO with an LSTM policy"),
}


@hookimpl
def register_agents(registry) -> None:
    for name, cls in AGENTS.items():
        her = HER_DESCRIPTION if issubclass(cls.Config, HERFields) else ""
        registry.add_agent(name, f"zoo.agents.sb3:{cls.__name__}",
                           description=f"stable-baselines3 {cls.algorithm}: {cls.__doc__.split('(')[0].strip()}{her}")
    for name, (class_name, description) in CONTRIB_AGENTS.items():
        her = HER_DESCRIPTION if name in ("sb3-tqc", "sb3-qrdqn") else ""  # (their configs: SAC's and DQN's)
        registry.add_agent(name, f"zoo.agents.sb3_contrib:{class_name}", description=f"sb3-contrib {description}{her}")


@hookimpl
def register_hub_formats(registry) -> None:
    registry.add_format("stable-baselines3", detect="zoo.agents.sb3_format:detect", load="zoo.agents.sb3_format:load",
                        description="{algo}-{env}.zip, a stable-baselines3 model (huggingface_sb3)")
    # Read from disk too: `zoo eval --checkpoint logs/ppo/CartPole-v1_1` or `--checkpoint model.zip`.
    registry.add_format("rl-baselines3-zoo", detect="zoo.agents.sb3_files:detect_rl_zoo",
                        load="zoo.agents.sb3_files:load_rl_zoo",
                        description="an rl-baselines3-zoo log folder (ENV.zip, ENV/config.yml)")
    registry.add_format("stable-baselines3-zip", detect="zoo.agents.sb3_files:detect_zip",
                        load="zoo.agents.sb3_files:load_zip", description="one stable-baselines3 zip, of any name")
