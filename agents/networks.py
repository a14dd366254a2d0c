"""Small torch networks for policies and value baselines, and running observation statistics."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium
import numpy as np
import torch
from torch import nn

from zoo.agents.acting import Layer, encode_observations, forward, gumbel_max, normalize

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
__all__ = ["ACTIVATIONS", "PolicyNet", "RunningMeanStd", "ValueNet", "gumbel_max", "linear_views", "mlp",
           "numpy_forward"]


def mlp(sizes: Sequence[int], activation: str, out_scale: float = 1.0) -> nn.Sequential:
    """A plain MLP; the last layer's weights are scaled by ``out_scale`` (small = near-uniform
    initial policy)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    with torch.no_grad():
        layers[-1].weight.mul_(out_scale)
        layers[-1].bias.zero_()
    return nn.Sequential(*layers)


def linear_views(body: nn.Sequential) -> list[Layer]:
    """The linear layers of an :func:`mlp` as numpy ``(weight, bias)`` views of its live
    parameters (shared memory: they always see the latest update), for acting in numpy
    (:mod:`zoo.agents.acting`). Not differentiable."""
    return [(layer.weight.detach().numpy(), layer.bias.detach().numpy()) for layer in body
            if isinstance(layer, nn.Linear)]


def activation_name(body: nn.Sequential) -> str:
    """The name (a key of :data:`ACTIVATIONS`) of the hidden activation of an :func:`mlp`."""
    for layer in body:
        for name, cls in ACTIVATIONS.items():
            if isinstance(layer, cls):
                return name
    return "tanh"  # no hidden layer: no activation is ever applied


def numpy_forward(body: nn.Sequential, x: np.ndarray) -> np.ndarray:
    """``body(x)`` for an :func:`mlp`, computed in numpy on views of its live weights."""
    return forward(linear_views(body), activation_name(body), x)


class PolicyNet(nn.Module):
    """pi(a|s): a Categorical head for Discrete actions, a diagonal Gaussian with a learned,
    state-independent log-std for Box actions."""

    def __init__(self, obs_dim: int, action_space: gymnasium.Space, hidden: Sequence[int],
                 activation: str, init_log_std: float = 0.0) -> None:
        super().__init__()
        self.discrete = isinstance(action_space, gymnasium.spaces.Discrete)
        out = int(action_space.n) if self.discrete else int(np.prod(action_space.shape))
        self.body = mlp([obs_dim, *hidden, out], activation, out_scale=0.01)
        if not self.discrete:
            self.log_std = nn.Parameter(torch.full((out,), float(init_log_std)))

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Distribution:
        out = self.body(obs)
        if self.discrete:
            return torch.distributions.Categorical(logits=out)
        return torch.distributions.Normal(out, self.log_std.exp().expand_as(out))

    def log_prob(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        dist = self.distribution(obs)
        logp = dist.log_prob(actions)
        return logp if self.discrete else logp.sum(-1)

    def entropy(self, obs: torch.Tensor) -> torch.Tensor:
        ent = self.distribution(obs).entropy()
        return ent if self.discrete else ent.sum(-1)


class ValueNet(nn.Module):
    """V(s), the learned baseline."""

    def __init__(self, obs_dim: int, hidden: Sequence[int], activation: str) -> None:
        super().__init__()
        self.body = mlp([obs_dim, *hidden, 1], activation)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.body(obs).squeeze(-1)


class RunningMeanStd(nn.Module):
    """Running mean and variance of observations (parallel Welford), saved with the weights."""

    def __init__(self, shape: Sequence[int], clip: float = 10.0) -> None:
        super().__init__()
        self.clip = clip
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    def update(self, batch: np.ndarray) -> None:
        batch = torch.as_tensor(batch, dtype=torch.float64).reshape(-1, *self.mean.shape)
        if batch.shape[0] == 0:
            return
        b_mean, b_var, b_count = batch.mean(0), batch.var(0, unbiased=False), batch.shape[0]
        delta = b_mean - self.mean
        total = self.count + b_count
        self.mean += delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta.pow(2) * self.count * b_count / total
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        normalised = (obs.double() - self.mean) / torch.sqrt(self.var + 1e-8)
        return normalised.clamp(-self.clip, self.clip).float()

    def normalize_numpy(self, obs: np.ndarray) -> np.ndarray:
        """``forward`` in numpy, for acting (see :mod:`zoo.agents.acting`)."""
        return normalize(obs, self.mean.numpy(), self.var.numpy(), self.clip)


class DeterministicPolicy(nn.Module):
    """The greedy policy as one module, observations in, actions out, for export: the
    observation encoding (one-hot for Discrete), normalisation, the network, then the argmax
    (Categorical) or the mean clipped to the action bounds (Gaussian).
    ``predict(obs, deterministic=True)`` computes the same."""

    def __init__(self, policy: PolicyNet, obs_rms: RunningMeanStd | None, observation_space: gymnasium.Space,
                 action_space: gymnasium.Space) -> None:
        super().__init__()
        self.observation_space = observation_space
        self.body, self.discrete, self.clip = policy.body, policy.discrete, obs_rms.clip if obs_rms else 0.0
        if obs_rms is not None:
            self.register_buffer("mean", obs_rms.mean.float().clone())
            self.register_buffer("std", torch.sqrt(obs_rms.var + 1e-8).float().clone())
        self.normalize = obs_rms is not None
        if not self.discrete:
            self.register_buffer("low", torch.as_tensor(action_space.low, dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(action_space.high, dtype=torch.float32))

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        observation = encode_observations(observation, self.observation_space)
        if self.normalize:
            observation = ((observation - self.mean) / self.std).clamp(-self.clip, self.clip)
        out = self.body(observation)
        if self.discrete:
            return out.argmax(-1)
        return torch.minimum(torch.maximum(out, self.low), self.high)


def export_onnx(module: nn.Module, observation_space: gymnasium.Space, path: str) -> None:
    """``module`` (a batch of ``observation_space``'s observations -> actions; Discrete ones as
    int64 indices) as an ONNX graph with a dynamic batch size, through
    torch's own exporter (``torch.onnx.export(dynamo=True)``, which needs ``onnx`` and ``onnxscript``)."""
    import logging
    import warnings

    # The exporter logs a warning for every torchvision operator it cannot register.
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    batch = torch.export.Dim("batch")
    discrete = isinstance(observation_space, gymnasium.spaces.Discrete)
    example = torch.zeros((2, *observation_space.shape), dtype=torch.int64 if discrete else torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.export's internal deprecation chatter
        program = torch.onnx.export(module.eval(), (example,), dynamo=True, verbose=False,
                                    input_names=["observation"], output_names=["action"],
                                    dynamic_shapes=({0: batch},))
    program.save(path)
