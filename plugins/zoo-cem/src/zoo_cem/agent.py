"""The cross-entropy method (Rubinstein 1999; Szita & Lőrincz 2006 for RL) on linear policies.

The policy is ``a = argmax(W·o + b)`` for Discrete actions and ``a = clip(W·o + b)`` for Box
actions. CEM keeps a diagonal Gaussian over the flat parameters θ = (W, b). One iteration:

1. sample ``pop_size`` parameter vectors θ_i ~ N(μ, σ²);
2. run ``episodes`` episodes with each (all candidates at once, one vector-env copy each);
3. refit μ and σ to the best ``elite_frac`` of them; σ gets ``noise`` added so the search
   does not collapse too early.

The policy that acts (evaluation, checkpoints) is the mean μ: deterministic by design.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium
import numpy as np
import torch

from zoo import Agent, EnvEntry, Iteration, ZooError


@dataclass
class CEMConfig:
    """Cross-entropy method hyperparameters. Per-env defaults live in ``defaults.toml``."""

    pop_size: int = field(default=32, metadata={"help": "candidate policies sampled per iteration (rl-baselines3-zoo's "
                                                         "name)"})
    elite_frac: float = field(default=0.2, metadata={"help": "fraction of the best candidates the "
                                                             "distribution is refitted to"})
    init_std: float = field(default=1.0, metadata={"help": "initial standard deviation of every parameter"})
    noise: float = field(default=0.05, metadata={"help": "added to the refitted standard deviation"})
    episodes: int = field(default=1, metadata={"help": "episodes per candidate (scores are averaged)"})
    max_rollout_steps: int = field(default=10_000, metadata={"help": "cap on one rollout, for envs "
                                                                     "without a time limit"})

    def validate(self) -> None:
        checks = {
            "pop_size": self.pop_size >= 2, "elite_frac": 0 < self.elite_frac <= 1,
            "init_std": self.init_std > 0, "noise": self.noise >= 0, "episodes": self.episodes >= 1,
            "max_rollout_steps": self.max_rollout_steps >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ZooError(f"hyperparameter {name}={getattr(self, name)!r} is out of range")


class CrossEntropyMethod(Agent):
    """Gradient-free search for a linear policy with the cross-entropy method."""

    Config = CEMConfig
    #: ``population`` took rl-baselines3-zoo's name; checkpoints saved with the old one still load.
    renamed_hyperparameters = {"population": "pop_size"}

    def __init__(self, env: EnvEntry, config: CEMConfig | None = None, seed: int = 0) -> None:
        super().__init__(env, config, seed)
        self.action_space = env.action_space
        self.obs_dim = int(np.prod(env.observation_space.shape))
        self.discrete = isinstance(self.action_space, gymnasium.spaces.Discrete)
        self.act_dim = int(self.action_space.n) if self.discrete else int(np.prod(self.action_space.shape))
        n_params = (self.obs_dim + 1) * self.act_dim
        self.mean = np.zeros(n_params)
        self.std = np.full(n_params, self.config.init_std)
        self.rng = np.random.default_rng(seed)
        self.envs: gymnasium.vector.VectorEnv | None = None

    # How it is configured: per-env defaults and the search space are data, in the zoo's format
    # (Agent.defaults_file).
    defaults_file = ("zoo_cem", "defaults.toml")
    defaults_key = "cem"
    fallback_budget = {"steps": 50_000}

    # -- what it runs on -------------------------------------------------------------------------
    @classmethod
    def unsupported_reason(cls, env: EnvEntry) -> str | None:
        # A linear policy on the raw observation: the contract's default also admits Discrete
        # observations (for networks that one-hot encode them), which this agent does not.
        if not isinstance(env.observation_space, gymnasium.spaces.Box):
            return f"cem needs flat Box observations, got {env.observation_space}"
        return super().unsupported_reason(env)

    # -- acting ----------------------------------------------------------------------------------
    def _actions(self, thetas: np.ndarray, observations: np.ndarray) -> np.ndarray:
        """Actions of candidate ``thetas[i]`` on ``observations[i]``, for every i at once."""
        weights = thetas.reshape(len(thetas), self.obs_dim + 1, self.act_dim)
        outputs = np.einsum("nd,nda->na", observations.reshape(len(observations), -1), weights[:, :-1])
        outputs += weights[:, -1]
        if self.discrete:
            return outputs.argmax(-1)
        low, high = self.action_space.low, self.action_space.high
        return np.clip(outputs.reshape(-1, *self.action_space.shape), low, high).astype(self.action_space.dtype)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        observation = np.asarray(observation, dtype=np.float64)
        batched = observation.ndim > len(self.env.observation_space.shape)
        batch = observation if batched else observation[None]
        actions = self._actions(np.broadcast_to(self.mean, (len(batch), self.mean.size)), batch)
        return (actions if batched else actions[0]), state

    # -- learning --------------------------------------------------------------------------------
    def start_training(self, make_envs) -> None:
        self.envs = make_envs(self.config.pop_size)

    def stop_training(self) -> None:
        if self.envs is not None:
            self.envs.close()
            self.envs = None

    def _rollout(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One episode per candidate; returns (episode returns, episode lengths)."""
        observations, _ = self.envs.reset()
        returns = np.zeros(len(thetas))
        lengths = np.zeros(len(thetas), dtype=np.int64)
        running = np.ones(len(thetas), dtype=bool)
        for _ in range(self.config.max_rollout_steps):
            observations, rewards, terminated, truncated, _ = self.envs.step(self._actions(thetas, observations))
            returns += np.where(running, rewards, 0.0)
            lengths += running
            running &= ~(terminated | truncated)
            if not running.any():
                break
        return returns, lengths

    def train_iteration(self) -> Iteration:
        cfg = self.config
        thetas = self.mean + self.std * self.rng.standard_normal((cfg.pop_size, self.mean.size))
        episode_returns, episode_lengths, scores = [], [], np.zeros(cfg.pop_size)
        for _ in range(cfg.episodes):
            returns, lengths = self._rollout(thetas)
            scores += returns / cfg.episodes
            episode_returns += returns.tolist()
            episode_lengths += lengths.tolist()
        n_elite = max(1, int(round(cfg.elite_frac * cfg.pop_size)))
        elite = thetas[np.argsort(scores, kind="stable")[-n_elite:]]
        self.mean = elite.mean(axis=0)
        self.std = elite.std(axis=0) + cfg.noise
        metrics = {"elite_score": float(scores[np.argsort(scores)[-n_elite:]].mean()),
                   "mean_std": float(self.std.mean())}
        return Iteration(episode_returns, episode_lengths, int(sum(episode_lengths)), metrics)

    # -- state -----------------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {"mean": torch.from_numpy(self.mean.copy()), "std": torch.from_numpy(self.std.copy())}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        if set(tensors) != {"mean", "std"}:
            raise KeyError(f"expected tensors 'mean' and 'std', got {sorted(tensors)}")
        for name in ("mean", "std"):
            if tuple(tensors[name].shape) != self.mean.shape:
                raise ValueError(f"tensor {name!r} has shape {tuple(tensors[name].shape)}, expected {self.mean.shape}")
        self.mean = tensors["mean"].numpy().astype(np.float64)
        self.std = tensors["std"].numpy().astype(np.float64)
