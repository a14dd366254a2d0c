"""REINFORCE's update in numpy: the MLPs' forward and backward passes and the losses' gradients.

An update runs the policy (and the value baseline) over every step of the batch, tens of
thousands of rows through a layer or two of a few dozen units. At that size torch's CPU kernels
for the activations cost most of the update (``torch.tanh`` measured 6-12x slower than
``np.tanh`` on this CPU build, benchmarks/results/training-speed.md), and an MLP's backward pass
is a few matrix products. So the gradients are computed here, on views of the torch parameters,
and handed to the torch optimiser (``param.grad``); the torch modules still hold the weights,
save and export them. :mod:`tests.test_gradients` checks every gradient against torch's autograd.

Shapes: ``x`` (batch, in); a layer is ``(weight, bias)`` with weight (out, in), as torch stores it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zoo.agents.acting import Layer

LOG_2PI = float(np.log(2 * np.pi))


def forward(layers: Sequence[Layer], activation: str, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The MLP's output and each layer's input (what :func:`backward` needs)."""
    inputs = []
    for i, (weight, bias) in enumerate(layers):
        inputs.append(x)
        # In place after the product: each new array of a batch's size costs more than the
        # arithmetic on it (its pages are fresh memory), with the same bits.
        x = x @ weight.T
        x += bias
        if i < len(layers) - 1:
            if activation == "tanh":
                np.tanh(x, out=x)
            else:
                np.maximum(x, 0.0, out=x)
    return x, inputs


def backward(layers: Sequence[Layer], activation: str, inputs: Sequence[np.ndarray],
             d_out: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Gradients ``(d_weight, d_bias)`` of every layer, given the loss's gradient at the output.

    Overwrites the hidden layers' outputs in ``inputs`` (:func:`forward`'s own arrays; never the
    network's input) with the gradients at them, to reuse their memory."""
    grads: list[tuple[np.ndarray, np.ndarray]] = []
    d = d_out
    for i in range(len(layers) - 1, -1, -1):
        weight, _ = layers[i]
        grads.append((d.T @ inputs[i], d.sum(0)))
        if i:
            d = _through_activation(d, weight, inputs[i], activation)
    return grads[::-1]


#: Rows per block of :func:`_through_activation`. A block of 64 float32 units (1 MB) stays in the
#: CPU's cache; a whole batch's temporaries do not (tens of MB at Pong's batch sizes), and each is
#: fresh memory whose pages the kernel must map first: together 2-3x the arithmetic's time.
BLOCK_ROWS = 4096


def _through_activation(d: np.ndarray, weight: np.ndarray, hidden: np.ndarray, activation: str) -> np.ndarray:
    """The gradient at a hidden layer's output ``hidden`` from the gradient ``d`` at the next
    layer's output: ``(d @ weight) * activation'``, block by block (element-wise, so the same
    bits), written over ``hidden`` where the product needs no array of its own."""
    one_output = weight.shape[0] == 1
    # One output unit: the product alone, which is what matmul computes for it (one term, no
    # sum), without matmul's cost for an inner dimension of 1 (3x here).
    product = hidden if one_output else d @ weight
    for start in range(0, len(hidden), BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        if activation == "tanh":  # 1 - hidden**2
            slope = np.multiply(hidden[rows], hidden[rows])
            np.subtract(1.0, slope, out=slope)
        else:
            slope = hidden[rows] > 0
        block = product[rows]
        if one_output:  # the slope is read from these rows first
            np.multiply(d[rows], weight, out=block)
        np.multiply(block, slope, out=block)
    return product


def categorical(logits: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-probabilities of ``actions`` and the probabilities of every action."""
    shifted = logits - logits.max(-1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(-1, keepdims=True)
    probs = exp / total
    log_probs = np.take_along_axis(shifted, actions[:, None], -1)[:, 0] - np.log(total[:, 0])
    return log_probs, probs


def categorical_loss(logits: np.ndarray, actions: np.ndarray, weights: np.ndarray, ent_coef: float,
                     scale: float) -> tuple[float, np.ndarray, np.ndarray]:
    """``loss = -(sum(w * log pi(a)) + ent_coef * sum(entropy)) / scale``; returns the loss, its
    gradient with respect to the logits, and the log-probabilities."""
    log_probs, probs = categorical(logits, actions)
    loss = -float(np.dot(weights, log_probs))
    d_logits = probs * weights[:, None]
    d_logits[np.arange(len(actions)), actions] -= weights
    if ent_coef:
        log_p = np.log(np.maximum(probs, np.finfo(probs.dtype).tiny))
        entropy = -(probs * log_p).sum(-1)
        loss -= ent_coef * float(entropy.sum())
        d_logits += ent_coef * probs * (log_p + entropy[:, None])
    return loss / scale, d_logits / scale, log_probs


def gaussian_loss(mean: np.ndarray, log_std: np.ndarray, actions: np.ndarray, weights: np.ndarray, ent_coef: float,
                  scale: float) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The same for a diagonal Gaussian with a state-independent ``log_std``: the loss, its
    gradients with respect to the means and ``log_std``, and the log-probabilities."""
    inv_var = np.exp(-2.0 * log_std)
    diff = actions - mean
    z2 = diff * diff * inv_var
    log_probs = (-0.5 * z2 - log_std - 0.5 * LOG_2PI).sum(-1)
    loss = -float(np.dot(weights, log_probs))
    d_mean = -weights[:, None] * diff * inv_var
    d_log_std = -(weights[:, None] * (z2 - 1.0)).sum(0)
    if ent_coef:
        loss -= ent_coef * len(actions) * float((0.5 + 0.5 * LOG_2PI + log_std).sum())
        d_log_std = d_log_std - ent_coef * len(actions)
    return loss / scale, d_mean / scale, d_log_std / scale, log_probs


def mse_loss(predicted: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error and its gradient with respect to the predictions."""
    diff = predicted - targets
    return float(np.mean(diff * diff)), (2.0 / diff.size) * diff
