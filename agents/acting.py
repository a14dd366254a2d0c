"""Acting with a REINFORCE policy in numpy: the same arithmetic for training, evaluation and video.

Acting runs one tiny forward per env step, where torch's per-call overhead (about 40 us)
dwarfs the arithmetic; numpy does the same sums in a fifth of the time. And a process that
only acts (``zoo eval``, ``zoo record``, ``zoo push``) never has to import torch, which costs
more than a whole CartPole evaluation: :func:`load_policy` builds a :class:`NumpyPolicy`
straight from a checkpoint's tensors (read as numpy arrays). The torch agent acts through the
same functions on views of its live weights, so both act identically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import gymnasium
import numpy as np

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
}

#: 0.5 * log(2 pi), as numpy computes it: a Gaussian log-density's constant.
HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)

#: A linear layer as ``(weight, bias)``: weight (out, in), as torch stores it.
Layer = tuple[np.ndarray, np.ndarray]


def forward(layers: Sequence[Layer], activation: str, x: np.ndarray) -> np.ndarray:
    """An MLP's output: ``activation`` between the linear ``layers``, none after the last."""
    act = ACTIVATIONS[activation]
    for i, (weight, bias) in enumerate(layers):
        x = x @ weight.T
        x += bias  # into the product's own array: acting runs this every step
        if i < len(layers) - 1:
            x = act(x)
    return x


def encoded_size(space: gymnasium.Space) -> int:
    """Width of :func:`encode_observations`' output for one observation of ``space``."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return int(space.n)
    return int(np.prod(space.shape))


def encode_observations(observations, space: gymnasium.Space):
    """A batch of observations of ``space`` as the float rows the networks take: a Discrete
    state one-hot (its index alone would tell the network that state 7 lies between 6 and 8),
    a Box flattened. Takes and returns numpy arrays (acting, ``predict``) or torch tensors (the
    exported graph) alike, so every path encodes the same way; torch is imported only for a
    tensor, so acting stays torch-free."""
    torch_tensor = type(observations).__module__.partition(".")[0] == "torch"
    if not torch_tensor:
        observations = np.asarray(observations)
    if isinstance(space, gymnasium.spaces.Discrete):
        index = observations[..., None] - int(space.start)
        if torch_tensor:
            import torch

            return (index == torch.arange(int(space.n))).float()
        return (index == np.arange(int(space.n))).astype(np.float32)
    batch = observations.shape[:observations.ndim - len(space.shape)]
    if torch_tensor:
        return observations.reshape(*batch, -1).float()
    return observations.astype(np.float32).reshape(*batch, -1)


#: The open interval gumbel_max keeps uniforms in (log(0) is -inf), as 0-d arrays.
_UNIFORM_LOW, _UNIFORM_HIGH = np.array(1e-12), np.array(1.0 - 1e-12)


def gumbel_noise(uniform: np.ndarray) -> np.ndarray:
    """Standard Gumbel noise from uniforms in [0, 1), element by element (so a block of steps at
    once gives each step's bits)."""
    # minimum/maximum: np.clip's result, and the bounds 0-d arrays, the same bits for less than
    # Python floats cost
    return -np.log(-np.log(np.minimum(np.maximum(uniform, _UNIFORM_LOW), _UNIFORM_HIGH)))


def gumbel_max(logits: np.ndarray, uniform: np.ndarray, gumbel: np.ndarray | None = None) -> np.ndarray:
    """Samples of Categorical(logits) for each row, from uniforms in [0, 1) of the same shape
    (the Gumbel-max trick: argmax of logits plus Gumbel noise). ``gumbel``, if given, is
    ``gumbel_noise(uniform)`` computed ahead."""
    return (logits + (gumbel_noise(uniform) if gumbel is None else gumbel)).argmax(axis=-1)


def categorical_log_prob(logits: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """log pi(a|s) of each action under Categorical(logits) (the last axis), as float64, for any
    leading shape: each row's operations are the same whatever the rows around it, so a block of
    steps at once gives each step's bits."""
    # ufunc reductions: the methods' bits without their wrappers' cost
    shifted = logits - np.maximum.reduce(logits, axis=-1, keepdims=True)
    log_norm = np.log(np.add.reduce(np.exp(shifted), axis=-1))
    return (np.take_along_axis(shifted, actions[..., None], -1)[..., 0] - log_norm).astype(np.float64)


def normalize(obs: np.ndarray, mean: np.ndarray, var: np.ndarray, clip: float) -> np.ndarray:
    """Observations standardised by running statistics and clipped, as float32."""
    return np.minimum(np.maximum((obs - mean) / np.sqrt(var + 1e-8), -clip), clip).astype(np.float32)  # = np.clip


def noise_log_density(noise: np.ndarray) -> np.ndarray:
    """``-|z|^2 / 2`` of each row ``z`` of standard-normal noise (its last axis): the part of a
    Gaussian action's log-density that depends on the noise alone, for any leading shape (a
    block of steps at once gives each step's bits)."""
    return -0.5 * np.add.reduce(noise * noise, axis=-1)  # np.sum's bits, without its wrapper's cost


@dataclass
class ObsStats:
    """Running mean and variance of observations, and the clip applied after standardising."""

    mean: np.ndarray
    var: np.ndarray
    clip: float = 10.0


class NumpyPolicy:
    """pi(a|s) of a REINFORCE agent behind SB3's ``predict``: a Categorical head (logits) for
    Discrete actions, a diagonal Gaussian (mean, state-independent ``log_std``) for Box actions,
    whose actions are clipped to the bounds. Deterministic actions are the mode. Observations
    are encoded (:func:`encode_observations`: one-hot for a Discrete ``observation_space``),
    then normalised if there are statistics."""

    def __init__(self, layers: Callable[[], Sequence[Layer]], activation: str, action_space: gymnasium.Space,
                 log_std: Callable[[], np.ndarray] | None, obs_stats: Callable[[], ObsStats | None],
                 seed: int = 0, *, observation_space: gymnasium.Space) -> None:
        # Callables, so the torch agent can hand over views of weights that training updates.
        self.layers, self.log_std, self.obs_stats = layers, log_std, obs_stats
        self.activation, self.action_space, self.observation_space = activation, action_space, observation_space
        self.discrete = isinstance(action_space, gymnasium.spaces.Discrete)
        self.rng = np.random.default_rng(seed)

    def encode(self, obs) -> np.ndarray:
        """A batch of env observations as float rows (one-hot for Discrete ones)."""
        return encode_observations(obs, self.observation_space)

    def normalize(self, encoded: np.ndarray) -> np.ndarray:
        """Encoded observations standardised by the running statistics, if the policy has them."""
        stats = self.obs_stats()
        return normalize(encoded, stats.mean, stats.var, stats.clip) if stats is not None else encoded

    def preprocess(self, obs) -> np.ndarray:
        return self.normalize(self.encode(obs))

    def sample(self, obs: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Actions for a batch of (already preprocessed) observations: ``noise`` is uniform in
        [0, 1) of shape (batch, n_actions) for a Categorical policy, standard normal of shape
        (batch, action_dim) for a Gaussian one. Not clipped (training keeps the raw sample)."""
        out = forward(self.layers(), self.activation, obs)
        if self.discrete:
            return gumbel_max(out, noise)
        return (out + np.exp(self.log_std()) * noise).astype(np.float32)

    def sample_with_log_prob(self, obs: np.ndarray, noise: np.ndarray, noise_density: np.ndarray | None = None,
                             gumbel: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`sample`, and the log-probability of each action under the policy that drew it
        (float64): what an update weighs a step by when the policy has changed since. A caller
        may pass what the noise gives, computed ahead for a block of noise: a Gaussian policy's
        ``noise_log_density(noise)``, a Categorical one's ``gumbel_noise(noise)``."""
        if self.discrete:
            actions, logits = self.sample_with_logits(obs, noise, gumbel)
            return actions, categorical_log_prob(logits, actions)
        out = forward(self.layers(), self.activation, obs)
        log_std = self.log_std()
        actions = (out + np.exp(log_std) * noise).astype(np.float32)
        density = noise_log_density(noise) if noise_density is None else noise_density
        # ufunc reduction: np.sum's bits, without its wrapper's cost (this runs every step)
        log_probs = density - float(np.add.reduce(log_std)) - HALF_LOG_2PI * noise.shape[-1]
        return actions, log_probs.astype(np.float64, copy=False)

    def sample_with_logits(self, obs: np.ndarray, noise: np.ndarray,
                           gumbel: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A Categorical policy's :meth:`sample` and the logits it drew from, whose
        :func:`categorical_log_prob` a caller can compute later for many steps at once (training
        does, once per iteration: per step it cost a third of acting)."""
        logits = forward(self.layers(), self.activation, obs)
        return gumbel_max(logits, noise, gumbel), logits

    def clip(self, actions: np.ndarray) -> np.ndarray:
        """Actions as the env takes them: integers, or clipped to the Box bounds."""
        if self.discrete:
            return actions.astype(np.int64)
        # minimum/maximum: np.clip's result, without its wrapper's cost (training clips every step)
        return np.minimum(np.maximum(actions, self.action_space.low), self.action_space.high).astype(np.float32)

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        obs = self.preprocess(obs)
        if deterministic:
            with np.errstate(over="ignore", invalid="ignore"):
                out = forward(self.layers(), self.activation, obs)
            if not np.isfinite(out).all():  # as torch's distributions refuse such parameters
                raise FloatingPointError("the policy's outputs are NaN or infinite: its weights diverged")
            return self.clip(np.argmax(out, axis=-1) if self.discrete else out)
        shape = (obs.shape[0], int(self.action_space.n)) if self.discrete else (obs.shape[0], *self.action_space.shape)
        noise = self.rng.random(shape) if self.discrete else self.rng.standard_normal(shape)
        return self.clip(self.sample(obs, noise))

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        observation = np.asarray(observation)
        batched = observation.ndim > len(self.observation_space.shape)  # a Discrete state is a scalar
        actions = self.act(observation if batched else observation[None], deterministic)
        return (actions if batched else actions[0]), state


def mlp_tensor_names(prefix: str, n_layers: int) -> list[str]:
    """The names a saved :func:`zoo.agents.networks.mlp` of ``n_layers`` linear layers has: the
    linear layers sit at every other index of its ``Sequential`` (activations between them)."""
    return [f"{prefix}.{2 * i}.{kind}" for i in range(n_layers) for kind in ("weight", "bias")]


def check_tensors(tensors: Mapping[str, np.ndarray], sizes: Sequence[int], continuous: bool, baseline: bool) -> None:
    """Refuse tensors that are not those of a REINFORCE agent with policy layer ``sizes``
    (``KeyError`` for a missing or unexpected name, ``ValueError`` for a wrong shape): what
    ``load_state_dict(strict=True)`` checks for the torch agent."""
    n = len(sizes) - 1
    expected = {*mlp_tensor_names("policy.body", n), "obs_rms.mean", "obs_rms.var", "obs_rms.count"}
    expected |= {"policy.log_std"} if continuous else set()
    names = set(tensors)
    if baseline:
        expected |= {name for name in names if name.startswith("value.body.")}
        if not any(name.startswith("value.body.") for name in names):
            raise KeyError("missing tensors value.body.*")
    if names != expected:
        missing, extra = sorted(expected - names), sorted(names - expected)
        raise KeyError(f"missing tensors {missing}" if missing else f"unexpected tensors {extra}")
    for name, array in tensors.items():
        # What the torch agent holds: float32 weights, float64 running statistics; never cast.
        want = np.float64 if name.startswith("obs_rms.") else np.float32
        if array.dtype != want:
            raise ValueError(f"tensor {name!r} is {array.dtype}, the agent holds {np.dtype(want)}")
    for i in range(n):
        for kind, shape in (("weight", (sizes[i + 1], sizes[i])), ("bias", (sizes[i + 1],))):
            got = tuple(tensors[f"policy.body.{2 * i}.{kind}"].shape)
            if got != shape:
                raise ValueError(f"policy.body.{2 * i}.{kind} has shape {got}, expected {shape}")


def load_policy(tensors: Mapping[str, np.ndarray], observation_space: gymnasium.Space,
                action_space: gymnasium.Space, hidden: Sequence[int], activation: str, normalize_obs: bool,
                baseline: bool, seed: int = 0) -> NumpyPolicy:
    """A :class:`NumpyPolicy` from a REINFORCE checkpoint's tensors (as numpy arrays), checked
    against the agent's config and the env's spaces."""
    discrete = isinstance(action_space, gymnasium.spaces.Discrete)
    out = int(action_space.n) if discrete else int(np.prod(action_space.shape))
    sizes = [encoded_size(observation_space), *hidden, out]
    check_tensors(tensors, sizes, not discrete, baseline)
    layers = [(tensors[f"policy.body.{2 * i}.weight"], tensors[f"policy.body.{2 * i}.bias"])
              for i in range(len(sizes) - 1)]
    saved_log_std = None if discrete else tensors["policy.log_std"]
    stats = ObsStats(tensors["obs_rms.mean"], tensors["obs_rms.var"]) if normalize_obs else None
    return NumpyPolicy(lambda: layers, activation, action_space,
                       None if discrete else lambda: saved_log_std, lambda: stats, seed,
                       observation_space=observation_space)
