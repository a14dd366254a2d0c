"""REINFORCE (Williams, 1992) and REINFORCE with a learned state-value baseline.

Each iteration collects whole episodes from ``n_envs`` copies of the env stepped at once
(one policy forward per step for the whole batch; at least ``batch_steps`` steps, every
episode from the current policy), then takes one gradient step on

    loss = -sum_t log pi(a_t | s_t) * G_t            (REINFORCE)
    loss = -sum_t log pi(a_t | s_t) * (G_t - V(s_t)) (with baseline; V fitted to G by MSE)

averaged over the episodes of the batch. Returns are Monte-Carlo: nothing is bootstrapped.

Acting is numpy (:mod:`zoo.agents.acting`), on views of the live weights. torch is imported by
the methods that build or train the networks, never at module level, and the optimisers are
built on first use: a process that only acts (``zoo eval``, ``zoo record``, ``zoo push``) loads
the class and :meth:`Reinforce.load_policy` without importing torch (about a second), and an
agent made only to act builds no optimiser. The optimiser is :class:`zoo.agents.optim.Adam`,
``torch.optim.Adam``'s update without the ``torch._dynamo`` import (seconds) that every
``torch.optim`` optimiser makes.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import gymnasium
import numpy as np

import zoo
from zoo import Agent, EnvEntry, Iteration, ZooError, hyperparameter
from zoo.agents import acting
from zoo.agents import returns as R

if TYPE_CHECKING:
    import torch

    from zoo.agents.optim import Adam

_help = hyperparameter  # short name: every config field below uses it
#: Ranges checked by ``ReinforceConfig.validate``, before anything is built or written.
MAX_ENVS, MAX_BATCH_STEPS, MAX_LAYERS, MAX_WIDTH, MAX_WEIGHTS = 65_536, 10_000_000, 16, 4096, 10_000_000
MAX_FLOAT = 1e30


@dataclass
class ReinforceConfig:
    """REINFORCE hyperparameters. Per-env defaults live in ``defaults.toml``."""

    gamma: float = _help("discount factor for returns", 0.99)
    learning_rate: float = _help("Adam learning rate of the policy", 0.01)
    net_arch: tuple[int, ...] = _help("hidden layer sizes (policy and value networks)", (32,))
    activation: Literal["tanh", "relu"] = _help("hidden-layer activation", "tanh")
    n_envs: int = _help("envs stepped in parallel (one policy forward per step for all of them)", 8)
    batch_steps: int = _help(
        "at least this many env steps per update: an env whose episode ends earlier starts another "
        "(0 = one episode per env)", 0)
    normalize_advantage: Literal["batch", "episode", "none"] = _help(
        "normalise returns (advantages) across the batch, within each episode, or not at all", "batch")
    ent_coef: float = _help("entropy bonus weight (0 = plain REINFORCE)", 0.0)
    max_grad_norm: float = _help("clip the gradient norm at this value (0 = off)", 0.0)
    log_std_init: float = _help("initial log standard deviation of Gaussian actions", 0.0)
    noise_type: Literal["white", "pink"] = _help(
        "exploration noise of Gaussian actions: independent per step, or pink (1/f, temporally correlated)",
        "white")
    norm_obs: bool = _help("normalise observations with running statistics", False)
    vf_learning_rate: float = _help("Adam learning rate of the value baseline (baseline agent only)", 0.01)
    vf_gradient_steps: int = _help("value-function gradient steps per iteration (baseline agent only)", 1)

    def validate(self) -> None:
        # Upper bounds keep a typo from allocating more memory than a machine has, which
        # would fail only after the run folder is written (or take the machine down).
        checks = {
            "gamma": (0.0 <= self.gamma <= 1.0, "0 to 1"), "learning_rate": (self.learning_rate > 0, "> 0"),
            "vf_learning_rate": (self.vf_learning_rate > 0, "> 0"),
            "n_envs": (1 <= self.n_envs <= MAX_ENVS, f"1 to {MAX_ENVS}"),
            "batch_steps": (0 <= self.batch_steps <= MAX_BATCH_STEPS, f"0 to {MAX_BATCH_STEPS:,}"),
            "vf_gradient_steps": (1 <= self.vf_gradient_steps <= 10_000, "1 to 10,000"),
            "net_arch": (len(self.net_arch) <= MAX_LAYERS and all(1 <= h <= MAX_WIDTH for h in self.net_arch)
                         and sum(a * b for a, b in zip(self.net_arch, self.net_arch[1:])) <= MAX_WEIGHTS,
                         f"at most {MAX_LAYERS} layers of 1 to {MAX_WIDTH} units, {MAX_WEIGHTS:,} weights between"
                         " them"),
            "ent_coef": (self.ent_coef >= 0, ">= 0"), "max_grad_norm": (self.max_grad_norm >= 0, ">= 0"),
        }
        # torch trains in float32 (up to 3.4e38): a learning rate of 1e38 overflows in Adam's first step.
        checks.update({f.name: (abs(getattr(self, f.name)) <= MAX_FLOAT, f"at most {MAX_FLOAT:g} in size")
                       for f in fields(self) if isinstance(getattr(self, f.name), float)
                       and not abs(getattr(self, f.name)) <= MAX_FLOAT})
        for name, (ok, valid) in checks.items():
            if not ok:
                raise ZooError(f"hyperparameter {name}={reprlib.repr(getattr(self, name))} is out of range "
                               f"(valid: {valid})")


#: The names REINFORCE's hyperparameters had before they took stable-baselines3's (old -> new).
RENAMED = {"lr": "learning_rate", "hidden": "net_arch", "num_envs": "n_envs", "entropy_coef": "ent_coef",
           "init_log_std": "log_std_init", "value_lr": "vf_learning_rate", "value_steps": "vf_gradient_steps",
           "normalize": "normalize_advantage", "normalize_obs": "norm_obs", "noise": "noise_type"}


@dataclass
class Batch:
    """Experience of one iteration, each array (time, env, ...): the steps that belong to an
    episode of the batch are ``active``; ``ends`` marks the last step of each episode."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    active: np.ndarray
    ends: np.ndarray


class Reinforce(Agent):
    """Monte-Carlo policy gradient with a Categorical or diagonal Gaussian policy."""

    Config = ReinforceConfig
    renamed_hyperparameters = RENAMED
    uses_baseline = False
    defaults_file = ("zoo.agents", "defaults.toml")
    defaults_key = "reinforce"
    pretrained_folder = ("zoo.agents", "pretrained")

    def __init__(self, env: EnvEntry, config: ReinforceConfig | None = None, seed: int = 0) -> None:
        super().__init__(env, config, seed)
        import torch

        from zoo.agents.networks import PolicyNet, RunningMeanStd, ValueNet, linear_views

        zoo.use_torch_threads()
        torch.manual_seed(seed)
        self.observation_space, self.action_space = env.observation_space, env.action_space
        obs_dim = acting.encoded_size(self.observation_space)
        cfg = self.config
        self.policy = PolicyNet(obs_dim, self.action_space, cfg.net_arch, cfg.activation, cfg.log_std_init)
        self.obs_rms = RunningMeanStd((obs_dim,))
        self.value = ValueNet(obs_dim, cfg.net_arch, cfg.activation) if self.uses_baseline else None
        # No longer drawn from (acting samples in numpy), but part of the saved training state
        # that existing checkpoints resume from.
        self.generator = torch.Generator().manual_seed(seed)
        self.np_random = np.random.default_rng(seed)
        self._optimizer: Adam | None = None  # built on first use: see the module docstring
        self._value_optimizer: Adam | None = None
        self.envs: gymnasium.vector.VectorEnv | None = None
        rms = self.obs_rms
        self.acting = acting.NumpyPolicy(
            lambda: linear_views(self.policy.body), cfg.activation, self.action_space,
            None if self.policy.discrete else lambda: self.policy.log_std.detach().numpy(),
            lambda: acting.ObsStats(rms.mean.numpy(), rms.var.numpy(), rms.clip) if cfg.norm_obs else None,
            seed, observation_space=self.observation_space)

    @property
    def optimizer(self) -> Adam:
        if self._optimizer is None:
            from zoo.agents.optim import Adam

            self._optimizer = Adam(self.policy.parameters(), lr=self.config.learning_rate)
        return self._optimizer

    @property
    def value_optimizer(self) -> Adam | None:
        if self._value_optimizer is None and self.value is not None:
            from zoo.agents.optim import Adam

            self._value_optimizer = Adam(self.value.parameters(), lr=self.config.vf_learning_rate)
        return self._value_optimizer

    # -- acting without torch ------------------------------------------------------------------
    @classmethod
    def load_policy(cls, env: EnvEntry, config: ReinforceConfig, tensors: dict[str, np.ndarray],
                    seed: int = 0) -> acting.NumpyPolicy:
        return acting.load_policy(tensors, env.observation_space, env.action_space, config.net_arch,
                                  config.activation, config.norm_obs, cls.uses_baseline, seed)

    # -- acting ----------------------------------------------------------------------------------
    def _obs(self, observation: np.ndarray) -> torch.Tensor:
        import torch

        obs = torch.as_tensor(np.asarray(observation, dtype=np.float32))
        return self.obs_rms(obs) if self.config.norm_obs else obs

    def _clip(self, actions: np.ndarray) -> np.ndarray:
        return self.acting.clip(actions)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return self.acting.predict(observation, state=state, episode_start=episode_start,
                                   deterministic=deterministic)

    # -- learning --------------------------------------------------------------------------------
    def start_training(self, make_envs) -> None:
        self.envs = make_envs(self.config.n_envs)
        self._next_obs, _ = self.envs.reset()  # the loop seeded them: this is their seeded start

    def stop_training(self) -> None:
        if self.envs is not None:
            self.envs.close()
            self.envs = None

    def _exploration_noise(self, n: int, dim: int, horizon: int) -> np.ndarray:
        """(horizon, n, dim) standard-normal noise: white, or pink along the time axis."""
        if self.config.noise_type == "pink":
            import colorednoise

            noise = colorednoise.powerlaw_psd_gaussian(1.0, (n, dim, horizon), random_state=self.np_random)
            return np.transpose(noise, (2, 0, 1))
        return self.np_random.standard_normal((horizon, n, dim))

    def _sample(self, encoded: np.ndarray, noise: np.ndarray | None) -> np.ndarray:
        """Training actions for a batch of encoded observations, on the numpy fast path
        (:mod:`zoo.agents.acting`)."""
        obs = self.acting.normalize(encoded)
        if self.policy.discrete:
            noise = self.np_random.random((obs.shape[0], self.action_space.n))
        return self.acting.sample(obs, noise)

    def _collect(self) -> Batch:
        """Whole episodes from every env, all from the current policy.

        Each env runs one episode; an env whose episode ends while the batch holds fewer than
        ``batch_steps`` steps starts another one that also belongs to the batch. Collection
        ends when every episode of the batch has ended, so no return is cut short.
        """
        cfg, envs, n = self.config, self.envs, self.config.n_envs
        same_step = envs.metadata.get("autoreset_mode") == gymnasium.vector.AutoresetMode.SAME_STEP
        act_dim = 0 if self.policy.discrete else int(np.prod(self.action_space.shape))
        block, noise = 1024, None
        obs = self._next_obs
        recording = np.ones(n, dtype=bool)  # the env's current episode belongs to the batch
        resetting = np.zeros(n, dtype=bool)  # next-step autoreset: this step only resets the env
        all_obs, all_actions, all_rewards, all_active, all_ends = [], [], [], [], []
        steps = t = 0
        while recording.any():
            if act_dim and t % block == 0:
                # Generated in blocks so pink noise stays correlated over long episodes.
                noise = self._exploration_noise(n, act_dim, block)
            encoded = self.acting.encode(obs)  # one-hot for Discrete observations; the update sees the same
            actions = self._sample(encoded, noise[t % block] if act_dim else None)
            next_obs, rewards, terminated, truncated, _ = envs.step(self._clip(actions))
            active = recording & ~resetting
            done = terminated | truncated
            ended = active & done
            all_obs.append(encoded)
            all_actions.append(actions)
            all_rewards.append(rewards)
            all_active.append(active)
            all_ends.append(ended)
            steps += int(active.sum())
            recording = np.where(ended, steps < cfg.batch_steps, recording)
            if not same_step:
                resetting = done
            obs = next_obs
            t += 1
        # Episodes started but not part of the batch are dropped: the next batch starts afresh
        # (each env's seeded random stream continues).
        self._next_obs, _ = envs.reset()
        return Batch(np.asarray(all_obs, dtype=np.float32), np.asarray(all_actions),
                     np.asarray(all_rewards, dtype=np.float64), np.asarray(all_active), np.asarray(all_ends))

    def train_iteration(self) -> Iteration:
        import torch

        cfg = self.config
        batch = self._collect()
        active = batch.active
        if not np.isfinite(batch.obs[active]).all():
            bad = int(np.argwhere(~np.isfinite(batch.obs).all(-1) & active)[0][0])
            raise FloatingPointError(f"non-finite observation at step {bad} of the batch")
        returns = R.discounted_returns_episodes(batch.rewards, active, batch.ends, cfg.gamma)
        episodes = R.episode_ids(active, batch.ends)
        n_episodes = int(batch.ends.sum())
        flat_obs = self._obs(batch.obs[active])
        flat_actions = torch.as_tensor(batch.actions[active])
        metrics: dict[str, float] = {}
        weights = returns
        if self.value is not None:
            targets = torch.as_tensor(returns[active], dtype=torch.float32)
            with torch.no_grad():
                baseline = np.zeros_like(returns)
                baseline[active] = self.value(flat_obs).numpy()
            weights = R.advantages(returns, baseline)
            for _ in range(cfg.vf_gradient_steps):
                value_loss = torch.nn.functional.mse_loss(self.value(flat_obs), targets)
                self.value_optimizer.zero_grad()
                value_loss.backward()
                self.value_optimizer.step()
            metrics["value_loss"] = value_loss.item()
        if cfg.normalize_advantage == "batch":
            weights = R.normalize_masked(weights, active)
        elif cfg.normalize_advantage == "episode":
            weights = R.normalize_groups(weights, episodes)
        weights_t = torch.as_tensor(weights[active], dtype=torch.float32)
        try:
            log_prob = self.policy.log_prob(flat_obs, flat_actions)
        except ValueError:  # torch refuses a distribution whose parameters are NaN, inf or a zero scale
            raise FloatingPointError("the policy's action distribution has NaN, infinite or zero-scale "
                                     "parameters: its weights diverged") from None
        loss = -(log_prob * weights_t).sum() / n_episodes
        if cfg.ent_coef:
            loss = loss - cfg.ent_coef * self.policy.entropy(flat_obs).sum() / n_episodes
        self.optimizer.zero_grad()
        loss.backward()
        if cfg.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(self.policy.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        if cfg.norm_obs:
            self.obs_rms.update(batch.obs[active])
        metrics["loss"] = loss.item()
        labels = episodes[active]
        lengths = np.bincount(labels, minlength=n_episodes)
        episode_returns = np.bincount(labels, batch.rewards[active], minlength=n_episodes)
        return Iteration(episode_returns.tolist(), lengths.astype(int).tolist(), int(active.sum()), metrics)

    # -- state -----------------------------------------------------------------------------------
    def _modules(self) -> dict[str, torch.nn.Module]:
        modules = {"policy": self.policy, "obs_rms": self.obs_rms}
        if self.value is not None:
            modules["value"] = self.value
        return modules

    # -- export ----------------------------------------------------------------------------------
    export_formats = {"onnx": ".onnx"}

    def export(self, path: Path, format: str) -> None:
        from zoo.agents.networks import DeterministicPolicy, export_onnx

        obs_rms = self.obs_rms if self.config.norm_obs else None
        module = DeterministicPolicy(self.policy, obs_rms, self.observation_space, self.action_space)
        export_onnx(module, self.observation_space, str(path))

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {f"{prefix}.{k}": v for prefix, module in self._modules().items()
                for k, v in module.state_dict().items()}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        for prefix, module in self._modules().items():
            part = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
            module.load_state_dict(part, strict=True)
        expected = set(self.state_tensors())
        extra = set(tensors) - expected
        if extra:
            raise KeyError(f"unexpected tensors {sorted(extra)}")

    def _optimizers(self) -> dict[str, Adam]:
        optimizers = {"optimizer": self.optimizer}
        if self.value_optimizer is not None:
            optimizers["value_optimizer"] = self.value_optimizer
        return optimizers

    def training_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        # Weights and observation statistics are in state_tensors; this is the rest of what
        # the next iteration depends on: optimiser moments and the random streams.
        tensors = {"generator": self.generator.get_state()}
        data: dict[str, Any] = {"np_random": zoo.numpy_rng_state(self.np_random)}
        for name, optimizer in self._optimizers().items():
            part, data[name] = zoo.optimizer_state(optimizer, name)
            tensors.update(part)
        return tensors, data

    def load_training_state(self, tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> None:
        for name, optimizer in self._optimizers().items():
            zoo.load_optimizer_state(optimizer, tensors, data[name], name)
        self.generator.set_state(tensors["generator"])
        self.np_random = zoo.numpy_rng(data["np_random"])


class ReinforceBaseline(Reinforce):
    """REINFORCE with a learned state-value baseline: advantages G_t - V(s_t)."""

    uses_baseline = True
    defaults_key = "reinforce-baseline"
