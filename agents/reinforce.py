"""REINFORCE (Williams, 1992) and REINFORCE with a learned state-value baseline.

``n_envs`` copies of the env step at once (one policy forward per step for the whole batch) and
never wait for each other: a copy whose episode ends starts the next one. Each iteration steps
them until every copy has ended an episode since the last update (and the ended episodes hold
at least ``batch_steps`` steps), then takes one gradient step on the episodes that ended:

    loss = -sum_t rho_t * log pi(a_t | s_t) * G_t            (REINFORCE)
    loss = -sum_t rho_t * log pi(a_t | s_t) * (G_t - V(s_t)) (with baseline; V fitted to G by MSE)

averaged over the episodes of the batch. Returns are Monte-Carlo: nothing is bootstrapped.
Unfinished episodes are carried into the next update (:mod:`zoo.agents.collection`), so their
first steps were taken by the previous policy: ``rho_t = min(1, pi(a_t|s_t) / mu(a_t|s_t))``
(held constant in the gradient) weighs each step by how much likelier the current policy makes
the action than the policy ``mu`` that took it, truncated at 1 as V-trace (Espeholt et al.,
2018) truncates its importance weights; it is 1 for the steps the current policy took.
Untruncated, a few old steps whose action the update made much likelier outweighed the rest of
the batch: plain REINFORCE on CartPole (its defaults, 5 seeds, 300,000 executed steps) evaluated
at 463 on average (366 to 500) against 500 on every seed truncated, and 495 for the collection
that carried nothing (benchmarks/carried_ratio.py; benchmarks/results/carried-ratio.md).
Nothing is stepped in vain, and an iteration never steps past the run's step budget
(``envs.steps_left``): where the budget cannot pay for one more step of all copies, the run's last
update learns from everything stepped, the unfinished episodes cut there and learned as a time
limit truncates an episode: with the baseline, the cut episode's last reward adds gamma times V
of the state it stopped at (stable-baselines3's bootstrap at a time limit); plain REINFORCE learns
its own reward-to-go. Against leaving them unlearned (the collection up to 7be60fd) and against
learning only the ended episodes, the final policy is no worse: plain REINFORCE on CartPole
after 100,000 steps evaluated at 416 against 391 and 403 (30 seeds), reinforce-baseline on
Acrobot as well as before (benchmarks/budget_end.py; benchmarks/results/budget-end.md).

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
from zoo.agents import acting, memory
from zoo.agents import gradients as G
from zoo.agents import returns as R
from zoo.agents.collection import Batch, Collector, min_update_steps

if TYPE_CHECKING:
    import torch

    from zoo.agents.optim import Adam

_help = hyperparameter  # short name: every config field below uses it
#: Steps of Gaussian exploration noise drawn at once (pink noise is correlated within a block).
NOISE_BLOCK = 1024
#: Steps of a Categorical policy's uniforms drawn at once: enough to spread numpy's cost per call
#: over the steps, few enough to keep a checkpoint's block small.
UNIFORM_BLOCK = 64
#: Ranges checked by ``ReinforceConfig.validate``, before anything is built or written.
MAX_ENVS, MAX_BATCH_STEPS, MAX_LAYERS, MAX_WIDTH, MAX_WEIGHTS = 65_536, 10_000_000, 16, 4096, 10_000_000
MAX_FLOAT = 1e30
#: Where a carried step's importance ratio is truncated (see the module docstring;
#: benchmarks/carried_ratio.py measures it against no truncation).
RATIO_TRUNCATION = 1.0


@dataclass
class ReinforceConfig:
    """REINFORCE hyperparameters. Per-env defaults live in ``defaults.toml``."""

    gamma: float = _help("discount factor for returns", 0.99)
    learning_rate: float = _help("Adam learning rate of the policy", 0.01)
    net_arch: tuple[int, ...] = _help("hidden layer sizes (policy and value networks)", (32,))
    activation: Literal["tanh", "relu"] = _help("hidden-layer activation", "tanh")
    n_envs: int = _help("envs stepped in parallel (one policy forward per step for all of them)", 8)
    batch_steps: int = _help(
        "at least this many env steps of ended episodes per update (an update also waits until every env "
        "has ended an episode since the last one; 0 = just that)", 0)
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

        from zoo.agents.networks import PolicyNet, RunningMeanStd, ValueNet

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
        #: Training experience not learned from yet (episodes under way), and the exploration
        #: noise block in use: part of the training state (see ``_collection_state``).
        self._collector: Collector | None = None
        self._noise: np.ndarray | None = None
        self._noise_prepared: np.ndarray | None = None  # what _use_noise computes of the block
        self._noise_step = 0
        self._make_views()
        self.acting = acting.NumpyPolicy(
            lambda: self._layers, cfg.activation, self.action_space,
            None if self.policy.discrete else lambda: self._log_std,
            lambda: self._obs_stats, seed, observation_space=self.observation_space)

    def _make_views(self) -> None:
        """numpy views of the policy's weights and the observation statistics, for acting. They
        share memory with the tensors, which training and loading update in place, so they are
        made once: making them on every step cost more than acting on 16 copies does."""
        from zoo.agents.networks import linear_views

        rms = self.obs_rms
        self._layers = linear_views(self.policy.body)
        self._log_std = None if self.policy.discrete else self.policy.log_std.detach().numpy()
        self._obs_stats = acting.ObsStats(rms.mean.numpy(), rms.var.numpy(), rms.clip) if self.config.norm_obs else None

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
    def _clip(self, actions: np.ndarray) -> np.ndarray:
        return self.acting.clip(actions)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return self.acting.predict(observation, state=state, episode_start=episode_start,
                                   deterministic=deterministic)

    # -- learning --------------------------------------------------------------------------------
    @classmethod
    def min_training_steps(cls, env: EnvEntry, config: ReinforceConfig) -> int:
        return min_update_steps(config.n_envs, config.batch_steps)

    def start_training(self, make_envs) -> None:
        memory.keep_freed_memory()  # each update's arrays reuse the last one's memory
        self.envs = make_envs(self.config.n_envs)
        if self._collector is None:  # a fresh run: the loop seeded the envs, this is their start
            self._collector = self._new_collector()
            self._collector.observations, _ = self.envs.reset()
        # (A resumed run's collector continues the episodes under way: the envs were put back there.)
        self._collector.next_step_autoreset = self._next_step_autoreset()

    def stop_training(self) -> None:
        if self.envs is not None:
            self.envs.close()
            self.envs = None

    def _new_collector(self) -> Collector:
        space = self.action_space
        shape, dtype = ((), np.int64) if self.policy.discrete else (space.shape, np.float32)
        return Collector(self.config.n_envs, acting.encoded_size(self.observation_space), shape, np.dtype(dtype),
                         next_step_autoreset=self._next_step_autoreset())

    def _next_step_autoreset(self) -> bool:
        mode = (self.envs.metadata if self.envs is not None else {}).get("autoreset_mode")
        return mode in (None, gymnasium.vector.AutoresetMode.NEXT_STEP)

    def _exploration_noise(self, n: int, dim: int, horizon: int) -> np.ndarray:
        """(horizon, n, dim) standard-normal noise: white, or pink along the time axis."""
        if self.config.noise_type == "pink":
            import colorednoise

            noise = colorednoise.powerlaw_psd_gaussian(1.0, (n, dim, horizon), random_state=self.np_random)
            return np.transpose(noise, (2, 0, 1))
        return self.np_random.standard_normal((horizon, n, dim))

    def _next_noise(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next step's noise and what sampling needs of it: Gaussian actions' noise and its
        log-density part, drawn in blocks of :data:`NOISE_BLOCK` steps, so that pink noise stays
        correlated over long episodes, across iterations too; a Categorical policy's uniforms and
        their Gumbel noise, in blocks of :data:`UNIFORM_BLOCK`. Either costs a few numpy calls per
        block, not per step, and a block draws the numbers the steps would have drawn one by one."""
        if self._noise is None or self._noise_step == len(self._noise):
            self._use_noise(self._new_noise_block(n), 0)
        self._noise_step += 1
        return self._noise[self._noise_step - 1], self._noise_prepared[self._noise_step - 1]

    def _new_noise_block(self, n: int) -> np.ndarray:
        if self.policy.discrete:
            return self.np_random.random((UNIFORM_BLOCK, n, self.action_space.n))
        return self._exploration_noise(n, int(np.prod(self.action_space.shape)), NOISE_BLOCK)

    def _use_noise(self, block: np.ndarray, step: int) -> None:
        self._noise, self._noise_step = block, step
        self._noise_prepared = (acting.gumbel_noise(block) if self.policy.discrete
                                else acting.noise_log_density(block))

    def _act(self, encoded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training actions for a batch of encoded observations, on the numpy fast path
        (:mod:`zoo.agents.acting`), and their log-probabilities; a Categorical policy's logits
        instead, whose log-probabilities :meth:`_collect` computes for all its steps at once."""
        obs = self.acting.normalize(encoded)
        noise, prepared = self._next_noise(obs.shape[0])
        if self.policy.discrete:
            return self.acting.sample_with_logits(obs, noise, gumbel=prepared)
        return self.acting.sample_with_log_prob(obs, noise, noise_density=prepared)

    def _collect(self) -> tuple[int, bool]:
        """Step the copies until an update is due, the step budget cannot pay for one more step or
        the episode budget's last episode has ended; returns the env steps executed and whether the
        budget ended (then the update, due or not, is the run's last).

        A Categorical policy's log-probabilities are computed here once for all the steps, before
        the update changes the policy (however the stepping ends, so a saved state has them all)."""
        first_row, logits = self._collector.rows, []
        try:
            return self._step_until_due(logits)
        finally:
            if logits:
                self._collector.fill_log_probs(first_row,
                                               lambda actions: acting.categorical_log_prob(np.stack(logits), actions))

    def _step_until_due(self, logits: list[np.ndarray]) -> tuple[int, bool]:
        """:meth:`_collect`'s stepping; a Categorical policy's logits of each step go to ``logits``."""
        collector, envs, batch_steps = self._collector, self.envs, self.config.batch_steps
        discrete = self.policy.discrete
        left = getattr(envs, "steps_left", None)  # the run's step budget, if it has one
        counts_episodes = getattr(envs, "episodes_left", None) is not None  # an episode budget
        executed = 0
        while True:
            if left is not None and executed + collector.cost() > left:
                return executed, True
            if counts_episodes and envs.episodes_left == 0:  # the budget's last episode has ended
                return executed, True
            if collector.ready(batch_steps):
                return executed, False
            encoded = self.acting.encode(collector.observations)  # the update sees the same encoding
            actions, behaviour = self._act(encoded)
            observations, rewards, terminated, truncated, _ = envs.step(self._clip(actions))
            executed += collector.record(encoded, actions, None if discrete else behaviour, rewards, terminated,
                                         truncated)
            if discrete:
                logits.append(behaviour)
            collector.observations = observations

    def train_iteration(self) -> Iteration:
        executed, budget_ends = self._collect()
        # Where the budget cannot pay for one more step, this is the run's last update: it learns
        # from all that was stepped (an update due or not), so nothing waits after it.
        batch = self._collector.take_all() if budget_ends and self._collector.holds_steps() else None
        if batch is None and self._collector.ready(self.config.batch_steps):
            batch = self._collector.take()
        if batch is None:
            return Iteration([], [], executed, {})
        return self._learn(batch, executed)

    def _bootstrap(self, batch: Batch) -> np.ndarray:
        """The rewards returns are computed from: for a cut episode with a baseline, its last reward
        plus gamma times V of the observation it stopped at, as a time limit's truncation gets in
        stable-baselines3; plain REINFORCE learns a cut episode's own reward-to-go."""
        if self.value is None or not batch.cut.any():
            return batch.rewards
        from zoo.agents.networks import linear_views

        obs = self.acting.normalize(self.acting.encode(self._collector.observations))
        values = G.forward(linear_views(self.value.body), self.config.activation, obs)[0][:, 0]
        return batch.rewards + batch.cut * (self.config.gamma * values.astype(np.float64))

    def _learn(self, batch: Batch, executed: int) -> Iteration:
        cfg = self.config
        active = batch.active
        if not np.isfinite(batch.obs[active]).all():
            bad = int(np.argwhere(~np.isfinite(batch.obs).all(-1) & active)[0][0])
            raise FloatingPointError(f"non-finite observation at step {bad} of the batch")
        ends = batch.ends & active
        returns = R.discounted_returns_episodes(self._bootstrap(batch), active, ends, cfg.gamma)
        episodes = R.episode_ids(active, ends)
        n_episodes = int(ends.sum())  # a cut episode weighs as one
        obs = self.acting.normalize(batch.obs[active])
        metrics: dict[str, float] = {}
        weights = returns
        if self.value is not None:
            baseline = np.zeros_like(returns)
            baseline[active] = self._fit_value(obs, returns[active], metrics)
            weights = R.advantages(returns, baseline)
        if cfg.normalize_advantage == "batch":
            weights = R.normalize_masked(weights, active)
        elif cfg.normalize_advantage == "episode":
            weights = R.normalize_groups(weights, episodes)
        metrics["loss"] = self._policy_step(obs, batch.actions[active], weights[active], batch.log_probs[active],
                                            n_episodes, metrics)
        if cfg.norm_obs:
            self.obs_rms.update(batch.obs[active])
        return Iteration(*self._ended_episodes(batch, episodes), executed, metrics,
                         episode_steps=batch.episode_end_steps(executed), learned_steps=int(active.sum()))

    @staticmethod
    def _ended_episodes(batch: Batch, episodes: np.ndarray) -> tuple[list[float], list[int]]:
        """Returns and lengths of the batch's ended episodes in the order they ended, each whole
        (with the part an earlier cut learned); cut episodes are no episode to report."""
        active, ends = batch.active, batch.ends & batch.active
        n = int(ends.sum())
        labels = episodes[active]
        lengths = np.bincount(labels, minlength=n).astype(np.int64)
        episode_returns = np.bincount(labels, batch.rewards[active], minlength=n)
        copies = np.nonzero(ends.T)[0]  # each episode's copy, copy by copy as episode_ids numbers them
        first = np.ones(copies.size, np.bool_)  # each copy's first episode: its prefix
        first[1:] = copies[1:] != copies[:-1]
        lengths[first] += batch.prefix_lengths[copies[first]]
        episode_returns[first] += batch.prefix_returns[copies[first]]
        kept = ~batch.cut.T[ends.T]  # copy by copy, as the episodes are numbered
        in_order = np.argsort(batch.episode_order(), kind="stable")  # as they ended
        return episode_returns[kept][in_order].tolist(), lengths[kept][in_order].astype(int).tolist()

    def _step(self, optimizer: Adam, params: list[torch.Tensor], grads: list[np.ndarray]) -> None:
        """One optimiser step with gradients computed in numpy (:mod:`zoo.agents.gradients`)."""
        import torch

        for param, grad in zip(params, grads):
            param.grad = torch.from_numpy(np.ascontiguousarray(grad, dtype=np.float32))
        if self.config.max_grad_norm and optimizer is self.optimizer:
            torch.nn.utils.clip_grad_norm_(params, self.config.max_grad_norm)
        optimizer.step()

    def _fit_value(self, obs: np.ndarray, returns: np.ndarray, metrics: dict[str, float]) -> np.ndarray:
        """The baseline V(s) of every step (before fitting), then ``vf_gradient_steps`` steps of
        regression of V on the returns."""
        from zoo.agents.networks import linear_views

        layers, activation = linear_views(self.value.body), self.config.activation
        params = [p for layer in self.value.body if hasattr(layer, "weight") for p in (layer.weight, layer.bias)]
        targets = returns.astype(np.float32)
        baseline = None
        for _ in range(self.config.vf_gradient_steps):
            out, inputs = G.forward(layers, activation, obs)
            if baseline is None:
                baseline = out[:, 0].astype(np.float64)
            loss, d_out = G.mse_loss(out[:, 0], targets)
            grads = G.backward(layers, activation, inputs, d_out[:, None])
            self._step(self.value_optimizer, params, [g for pair in grads for g in pair])
        metrics["value_loss"] = loss
        return baseline

    def _policy_step(self, obs: np.ndarray, actions: np.ndarray, weights: np.ndarray, behaviour: np.ndarray,
                     n_episodes: int, metrics: dict[str, float]) -> float:
        """One gradient step of the policy on ``-sum(rho * log pi(a|s) * weight) / n_episodes``
        (minus the entropy bonus), ``rho`` the current policy's probability of each action over the
        one that took it, truncated at 1 (see the module docstring); returns the loss."""
        from zoo.agents.networks import linear_views

        cfg, policy = self.config, self.policy
        layers = linear_views(policy.body)
        params = [p for layer in policy.body if hasattr(layer, "weight") for p in (layer.weight, layer.bias)]
        with np.errstate(over="ignore", invalid="ignore"):
            out, inputs = G.forward(layers, cfg.activation, obs)
            log_std = None if policy.discrete else policy.log_std.detach().numpy()
            if not np.isfinite(out).all() or (log_std is not None and not np.isfinite(log_std).all()):
                raise FloatingPointError("the policy's action distribution has NaN, infinite or zero-scale "
                                         "parameters: its weights diverged")
            weights = weights.astype(np.float32)
            current = (G.categorical(out, actions)[0] if policy.discrete else
                       G.gaussian_loss(out, log_std, actions, weights, 0.0, 1.0)[3])
            ratio = np.exp(current.astype(np.float64) - behaviour)
            metrics["ratio_max"] = float(ratio.max())  # before truncation: how far the policy moved
            weights = weights * np.minimum(ratio, RATIO_TRUNCATION).astype(np.float32)
            if policy.discrete:
                loss, d_out, _ = G.categorical_loss(out, actions, weights, cfg.ent_coef, n_episodes)
                grads = [g for pair in G.backward(layers, cfg.activation, inputs, d_out) for g in pair]
            else:
                loss, d_out, d_log_std, _ = G.gaussian_loss(out, log_std, actions, weights, cfg.ent_coef, n_episodes)
                grads = [g for pair in G.backward(layers, cfg.activation, inputs, d_out) for g in pair] + [d_log_std]
                params.append(policy.log_std)
        self._step(self.optimizer, params, grads)
        return loss

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
        self._make_views()  # load_state_dict copies in place; made again in case a tensor moved
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
        collection_tensors, data["collection"] = self._collection_state()
        tensors.update(collection_tensors)
        return tensors, data

    def load_training_state(self, tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> None:
        for name, optimizer in self._optimizers().items():
            zoo.load_optimizer_state(optimizer, tensors, data[name], name)
        self.generator.set_state(tensors["generator"])
        self.np_random = zoo.numpy_rng(data["np_random"])
        self._load_collection_state(tensors, data.get("collection"))

    # -- the collection's part of the training state ------------------------------------------------
    # Episodes under way and the noise block in use (zoo.agents.collection): tensors named
    # "collection.*" and the JSON "collection" entry. A checkpoint without them (written before
    # collection carried episodes across updates) resumes with a fresh collection.
    def _collection_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
        import torch

        if self._collector is None:
            return {}, None
        arrays, data = self._collector.state()
        if self._noise is not None:
            arrays["noise"] = self._noise
            data["noise_step"] = self._noise_step
        return {f"collection.{name}": torch.from_numpy(np.ascontiguousarray(a)) for name, a in arrays.items()}, data

    def _load_collection_state(self, tensors: dict[str, torch.Tensor], data: Any) -> None:
        if data is None:
            return
        if not isinstance(data, dict):
            raise ValueError("the saved collection state is not a table")
        arrays = {name[len("collection."):]: tensor.numpy() for name, tensor in tensors.items()
                  if name.startswith("collection.")}
        collector = self._new_collector()
        observations = arrays.get("observations")
        n = self.config.n_envs
        if observations is None or observations.shape[:1] != (n,) or observations.dtype.kind not in "biuf":
            raise ValueError(f"collection.observations does not hold {self.config.n_envs} observations")
        collector.load(arrays, data, observations)
        noise = arrays.get("noise")
        if noise is not None:
            step = data.get("noise_step")
            want = ((UNIFORM_BLOCK, self.config.n_envs, int(self.action_space.n)) if self.policy.discrete
                    else (NOISE_BLOCK, self.config.n_envs, int(np.prod(self.action_space.shape))))
            if noise.shape != want or noise.dtype != np.float64:
                raise ValueError(f"collection.noise is {noise.dtype}{list(noise.shape)}, expected float64{list(want)}")
            if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= want[0]:
                raise ValueError(f"collection noise_step {step!r} is not a step of the block")
            self._use_noise(noise.copy(), step)
        self._collector = collector


class ReinforceBaseline(Reinforce):
    """REINFORCE with a learned state-value baseline: advantages G_t - V(s_t)."""

    uses_baseline = True
    defaults_key = "reinforce-baseline"
