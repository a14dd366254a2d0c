"""REINFORCE's update computes its gradients in numpy (zoo.agents.gradients): each one equals
torch's autograd on the same networks and losses, for both activations, both action kinds, with
and without the entropy bonus, and for the value regression."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch

from zoo.agents import gradients as G
from zoo.agents.networks import PolicyNet, ValueNet, linear_views


def _close(numpy_grad: np.ndarray, torch_grad: torch.Tensor) -> None:
    np.testing.assert_allclose(numpy_grad, torch_grad.numpy(), rtol=2e-4, atol=2e-6)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("discrete", [True, False])
@pytest.mark.parametrize("ent_coef", [0.0, 0.05])
def test_policy_gradients_equal_torch_autograd(activation, discrete, ent_coef):
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    space = gymnasium.spaces.Discrete(3) if discrete else gymnasium.spaces.Box(-1, 1, (2,))
    policy = PolicyNet(5, space, (16, 8), activation, init_log_std=-0.3)
    with torch.no_grad():  # away from the near-uniform start, so every term matters
        for p in policy.body.parameters():
            p.mul_(20.0)
    obs = rng.standard_normal((257, 5)).astype(np.float32)
    actions = rng.integers(0, 3, 257) if discrete else rng.standard_normal((257, 2)).astype(np.float32)
    weights = rng.standard_normal(257).astype(np.float32)
    scale = 7.0

    obs_t, actions_t = torch.from_numpy(obs), torch.from_numpy(actions)
    log_prob = policy.log_prob(obs_t, actions_t)
    loss_t = -(log_prob * torch.from_numpy(weights)).sum() / scale
    if ent_coef:
        loss_t = loss_t - ent_coef * policy.entropy(obs_t).sum() / scale
    loss_t.backward()

    layers = linear_views(policy.body)
    out, inputs = G.forward(layers, activation, obs)
    if discrete:
        loss, d_out, log_probs = G.categorical_loss(out, actions, weights, ent_coef, scale)
    else:
        log_std = policy.log_std.detach().numpy()
        loss, d_out, d_log_std, log_probs = G.gaussian_loss(out, log_std, actions, weights, ent_coef, scale)
        _close(d_log_std, policy.log_std.grad)
    assert loss == pytest.approx(loss_t.item(), rel=1e-4)
    np.testing.assert_allclose(log_probs, log_prob.detach().numpy(), rtol=1e-4, atol=1e-5)
    linear = [m for m in policy.body if isinstance(m, torch.nn.Linear)]
    for module, (d_weight, d_bias) in zip(linear, G.backward(layers, activation, inputs, d_out)):
        _close(d_weight, module.weight.grad)
        _close(d_bias, module.bias.grad)


def test_value_regression_gradients_equal_torch_autograd():
    torch.manual_seed(2)
    rng = np.random.default_rng(2)
    value = ValueNet(4, (32,), "tanh")
    obs = rng.standard_normal((300, 4)).astype(np.float32)
    targets = (10 * rng.standard_normal(300)).astype(np.float32)
    loss_t = torch.nn.functional.mse_loss(value(torch.from_numpy(obs)), torch.from_numpy(targets))
    loss_t.backward()
    layers = linear_views(value.body)
    out, inputs = G.forward(layers, "tanh", obs)
    loss, d_out = G.mse_loss(out[:, 0], targets)
    assert loss == pytest.approx(loss_t.item(), rel=1e-5)
    linear = [m for m in value.body if isinstance(m, torch.nn.Linear)]
    for module, (d_weight, d_bias) in zip(linear, G.backward(layers, "tanh", inputs, d_out[:, None])):
        _close(d_weight, module.weight.grad)
        _close(d_bias, module.bias.grad)


def _policy_after_step(behaviour_shift: np.ndarray) -> list[np.ndarray]:
    """The policy's weights after one of REINFORCE's policy steps on a fixed batch whose actions
    the behaviour policy took with log-probability ``current + behaviour_shift``."""
    import zoo

    agent = zoo.make_agent("reinforce", "cartpole", seed=3)
    rng = np.random.default_rng(3)
    obs = rng.standard_normal((64, 4)).astype(np.float32)
    actions = rng.integers(0, 2, 64)
    weights = rng.standard_normal(64)
    out, _ = G.forward(linear_views(agent.policy.body), agent.config.activation, obs)
    current = G.categorical(out, actions)[0].astype(np.float64)
    agent._policy_step(obs, actions, weights, current + behaviour_shift, 4, {})
    return [array.copy() for layer in linear_views(agent.policy.body) for array in layer]


def test_carried_steps_weigh_at_most_as_much_as_the_current_policys():
    # A step the update made likelier than its behaviour policy did (ratio above 1) counts as
    # one the current policy took (ratio truncated at 1); one made less likely counts less.
    fresh = _policy_after_step(np.zeros(64))
    much_likelier = _policy_after_step(np.where(np.arange(64) % 2 == 0, -5.0, 0.0))
    less_likely = _policy_after_step(np.where(np.arange(64) % 2 == 0, 1.0, 0.0))
    for a, b in zip(fresh, much_likelier):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(fresh, less_likely))


def _unblocked_backward(layers, activation, inputs, d_out):
    """The backward pass as one product per layer over the whole batch (before it went block by block)."""
    grads, d = [], d_out
    for i in range(len(layers) - 1, -1, -1):
        weight, _ = layers[i]
        grads.append((d.T @ inputs[i], d.sum(0)))
        if i:
            d = d * weight if weight.shape[0] == 1 else d @ weight
            hidden = inputs[i]
            d = d * (1.0 - hidden * hidden) if activation == "tanh" else d * (hidden > 0)
    return grads[::-1]


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("outputs", [1, 3])
def test_backward_over_many_blocks_has_the_bits_of_one_product_per_layer(activation, outputs):
    # The element-wise part goes block by block to stay in the cache; a batch that ends in a
    # partial block gives the same bits as whole-batch arithmetic.
    rng = np.random.default_rng(4)
    rows = 2 * G.BLOCK_ROWS + 123
    layers = [(rng.standard_normal((16, 5)).astype(np.float32), rng.standard_normal(16).astype(np.float32)),
              (rng.standard_normal((8, 16)).astype(np.float32), rng.standard_normal(8).astype(np.float32)),
              (rng.standard_normal((outputs, 8)).astype(np.float32), rng.standard_normal(outputs).astype(np.float32))]
    obs = rng.standard_normal((rows, 5)).astype(np.float32)
    d_out = rng.standard_normal((rows, outputs)).astype(np.float32)
    _, inputs = G.forward(layers, activation, obs)
    expected = _unblocked_backward(layers, activation, [x.copy() for x in inputs], d_out)
    obs_before = obs.copy()
    for (d_weight, d_bias), (want_weight, want_bias) in zip(G.backward(layers, activation, inputs, d_out), expected):
        np.testing.assert_array_equal(d_weight, want_weight)
        np.testing.assert_array_equal(d_bias, want_bias)
    np.testing.assert_array_equal(obs, obs_before)  # the network's input is never overwritten
