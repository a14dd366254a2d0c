"""sb3-contrib's algorithms as zoo agents, named as rl-baselines3-zoo names them with ``sb3-``
in front (``_`` as ``-``): ``sb3-ars``, ``sb3-crossq``, ``sb3-qrdqn``, ``sb3-tqc``, ``sb3-trpo``,
``sb3-ppo-lstm`` (sb3-contrib's ``RecurrentPPO``).

They are :class:`zoo.agents.sb3.SB3Agent` with sb3-contrib's class: the same training loop,
checkpoints (policy weights as safetensors, the rest in ``zoo.agents.sb3_state``), ``predict``
and rl-baselines3-zoo files. Defaults are sb3-contrib's own, with the smaller replay buffer of
the zoo's other off-policy agents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import gymnasium

from zoo import EnvEntry, hyperparameter

from .sb3 import (
    _DEVICE,
    _ENV_WRAPPER,
    _FRAME_STACK,
    _LR,
    _NORM_OBS,
    _NORM_REWARD,
    _ROLLOUTS,
    _SCHEDULE_STEPS,
    _USE_EXPLN,
    _VEC_ENV,
    Activation,
    Device,
    DQNConfig,
    PPOConfig,
    SACConfig,
    SB3Agent,
    SB3Checks,
    VecEnvKind,
)

_help = hyperparameter


@dataclass
class ARSConfig(SB3Checks):
    """ARS hyperparameters (sb3-contrib's defaults)."""

    policy: Literal["LinearPolicy", "MlpPolicy"] = _help("a linear policy, or an MLP of net_arch", "LinearPolicy")
    n_delta: int = _help("random directions explored per update", 8)
    n_top: int | None = _help("best directions used per update (none: all n_delta)", None)
    learning_rate: float | str = _help(f"step size, {_LR}", 0.02)
    delta_std: float = _help("std of the exploration noise on the weights", 0.05)
    zero_policy: bool = _help("start from all-zero weights", True)
    alive_bonus_offset: float = _help("added to every reward while learning (removes a per-step alive bonus)", 0.0)
    n_eval_episodes: int = _help("episodes per candidate evaluation", 1)
    net_arch: tuple[int, ...] = _help("hidden layer sizes of the MlpPolicy", (64, 64))
    activation: Activation = _help("hidden-layer activation (MlpPolicy)", "relu")
    n_envs: int = _help("envs stepped in parallel", 1)
    norm_obs: bool = _help(_NORM_OBS, False)
    norm_reward: bool = _help(_NORM_REWARD, False)
    schedule_steps: int = _help(_SCHEDULE_STEPS, 0)
    iteration_steps: int = _help("env steps per zoo iteration (one model.learn call; whole updates)", 1000)
    env_wrapper: tuple[str, ...] = _help(_ENV_WRAPPER, ())
    frame_stack: int = _help(_FRAME_STACK, 0)
    device: Device = _help(_DEVICE, "cpu")
    vec_env: VecEnvKind = _help(_VEC_ENV, "dummy")


@dataclass
class TRPOConfig(SB3Checks):
    """TRPO hyperparameters (sb3-contrib's defaults)."""

    learning_rate: float | str = _help(f"value function Adam {_LR}", 1e-3)
    n_steps: int = _help("steps per env per rollout", 2048)
    batch_size: int = _help("minibatch size of the value function updates", 128)
    gamma: float = _help("discount factor", 0.99)
    cg_max_steps: int = _help("conjugate gradient iterations for the step direction", 15)
    cg_damping: float = _help("damping of the Hessian-vector product", 0.1)
    line_search_shrinking_factor: float = _help("step shrink factor of the line search", 0.8)
    line_search_max_iter: int = _help("line search iterations at most", 10)
    n_critic_updates: int = _help("value function updates per rollout", 10)
    gae_lambda: float = _help("GAE lambda", 0.95)
    use_sde: bool = _help("generalised state-dependent exploration (Box actions)", False)
    sde_sample_freq: int = _help("sample a new gSDE noise matrix every N steps (-1: once per rollout)", -1)
    use_expln: bool = _help(_USE_EXPLN, False)
    normalize_advantage: bool = _help("normalise advantages", True)
    target_kl: float = _help("KL divergence bound of a policy update", 0.01)
    sub_sampling_factor: int = _help("use every N-th sample of the rollout for the policy step", 1)
    net_arch: tuple[int, ...] = _help("hidden layer sizes of policy and value networks", (64, 64))
    activation: Activation = _help("hidden-layer activation", "tanh")
    ortho_init: bool = _help("orthogonal initialisation of the networks", True)
    log_std_init: float = _help("initial log std of Gaussian actions", 0.0)
    n_envs: int = _help("envs stepped in parallel", 1)
    norm_obs: bool = _help(_NORM_OBS, False)
    norm_reward: bool = _help(_NORM_REWARD, False)
    schedule_steps: int = _help(_SCHEDULE_STEPS, 0)
    iteration_steps: int = _help(_ROLLOUTS, 0)
    env_wrapper: tuple[str, ...] = _help(_ENV_WRAPPER, ())
    frame_stack: int = _help(_FRAME_STACK, 0)
    device: Device = _help(_DEVICE, "cpu")
    vec_env: VecEnvKind = _help(_VEC_ENV, "dummy")


@dataclass
class RecurrentPPOConfig(PPOConfig):
    """RecurrentPPO hyperparameters (sb3-contrib's defaults)."""

    n_steps: int = _help("steps per env per rollout", 128)
    batch_size: int = _help("minibatch size", 128)
    lstm_hidden_size: int = _help("units of the LSTM", 256)
    n_lstm_layers: int = _help("stacked LSTM layers", 1)
    shared_lstm: bool = _help("one LSTM for actor and critic", False)
    enable_critic_lstm: bool = _help("the critic has an LSTM of its own (when not shared_lstm)", True)
    iteration_steps: int = _help(_ROLLOUTS, 0)


@dataclass
class QRDQNConfig(DQNConfig):
    """QR-DQN hyperparameters (sb3-contrib's defaults, with a smaller replay buffer)."""

    learning_rate: float | str = _help(f"Adam {_LR}", 5e-5)
    exploration_final_eps: float = _help("final epsilon", 0.01)
    # sb3-contrib's QR-DQN clips no gradient (DQN's 10 here cost rl-zoo's CartPole entry its score).
    max_grad_norm: float | None = _help("gradient norm clip (none: no clipping)", None)
    n_quantiles: int = _help("quantiles of the return distribution", 200)


@dataclass
class TQCConfig(SACConfig):
    """TQC hyperparameters (sb3-contrib's defaults, with a smaller replay buffer)."""

    n_quantiles: int = _help("quantiles per critic", 25)
    n_critics: int = _help("critic networks", 2)
    top_quantiles_to_drop_per_net: int = _help("highest quantiles dropped per critic (overestimation control)", 2)


@dataclass
class CrossQConfig(SB3Checks):
    """CrossQ hyperparameters (sb3-contrib's defaults, with a smaller replay buffer)."""

    learning_rate: float | str = _help(f"Adam {_LR}", 1e-3)
    buffer_size: int = _help("replay buffer capacity", 100_000)
    learning_starts: int = _help("env steps before the first update", 100)
    batch_size: int = _help("minibatch size", 256)
    gamma: float = _help("discount factor", 0.99)
    train_freq: int = _help("env steps between updates", 1)
    gradient_steps: int = _help("gradient steps per update (-1: as many as env steps)", 1)
    ent_coef: str = _help("entropy weight: a number, 'auto' or 'auto_<initial value>'", "auto")
    policy_delay: int = _help("critic updates per actor update", 3)
    use_sde: bool = _help("generalised state-dependent exploration", False)
    sde_sample_freq: int = _help("sample a new gSDE noise matrix every N steps (-1: once per rollout)", -1)
    use_expln: bool = _help(_USE_EXPLN, False)
    use_sde_at_warmup: bool = _help("gSDE instead of uniform random actions before learning starts", False)
    log_std_init: float = _help("initial log std of the actor", -3.0)
    n_critics: int = _help("critic networks", 2)
    net_arch: tuple[int, ...] = _help("hidden layer sizes of the actor", (256, 256))
    critic_arch: tuple[int, ...] = _help("hidden layer sizes of the critics (empty: as net_arch)", (1024, 1024))
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


class SB3ContribAgent(SB3Agent):
    library = "sb3_contrib"


class SB3ARS(SB3ContribAgent):
    """Augmented Random Search (sb3-contrib); Discrete or Box actions."""

    Config = ARSConfig
    algorithm = "ARS"
    defaults_key = "sb3-ars"
    action_spaces = (gymnasium.spaces.Discrete, gymnasium.spaces.Box)
    episodes_from_monitors = True

    @staticmethod
    def policy_for(observation_space: gymnasium.Space) -> str:
        return "LinearPolicy"

    def policy_kwargs(self, env: EnvEntry) -> dict[str, Any]:
        if self.config.policy == "LinearPolicy":  # no hidden layers: no net_arch, no activation
            return {}
        kwargs = super().policy_kwargs(env)
        return {"net_arch": kwargs["net_arch"], "activation_fn": kwargs["activation_fn"]}


class SB3TRPO(SB3ContribAgent):
    """Trust Region Policy Optimization (sb3-contrib)."""

    Config = TRPOConfig
    algorithm = "TRPO"
    defaults_key = "sb3-trpo"
    critic_key = "vf"


class SB3RecurrentPPO(SB3ContribAgent):
    """PPO with an LSTM policy (sb3-contrib's RecurrentPPO); predict takes and returns the LSTM state."""

    Config = RecurrentPPOConfig
    algorithm = "RecurrentPPO"
    defaults_key = "sb3-ppo-lstm"
    critic_key = "vf"
    policy_fields: ClassVar[tuple[str, ...]] = ("lstm_hidden_size", "n_lstm_layers", "shared_lstm",
                                                "enable_critic_lstm")

    @staticmethod
    def policy_for(observation_space: gymnasium.Space) -> str:
        from stable_baselines3.common.preprocessing import is_image_space

        return "CnnLstmPolicy" if is_image_space(observation_space) else "MlpLstmPolicy"


class SB3QRDQN(SB3ContribAgent):
    """Quantile Regression DQN (sb3-contrib); Discrete actions."""

    Config = QRDQNConfig
    algorithm = "QRDQN"
    defaults_key = "sb3-qrdqn"
    action_spaces = (gymnasium.spaces.Discrete,)
    policy_fields: ClassVar[tuple[str, ...]] = ("n_quantiles",)


class SB3TQC(SB3ContribAgent):
    """Truncated Quantile Critics (sb3-contrib); Box actions."""

    Config = TQCConfig
    algorithm = "TQC"
    defaults_key = "sb3-tqc"
    action_spaces = (gymnasium.spaces.Box,)
    policy_fields: ClassVar[tuple[str, ...]] = ("n_quantiles", "n_critics")


class SB3CrossQ(SB3ContribAgent):
    """CrossQ (sb3-contrib); Box actions."""

    Config = CrossQConfig
    algorithm = "CrossQ"
    defaults_key = "sb3-crossq"
    action_spaces = (gymnasium.spaces.Box,)
    policy_fields: ClassVar[tuple[str, ...]] = ("n_critics",)

