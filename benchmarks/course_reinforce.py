"""Reference: REINFORCE as the Hugging Face Deep RL course (unit 4) writes it.

Kept as a benchmark reference, not as a zoo agent: one env stepped one step at a time, one
network call per step, one episode per update. Policy: ReLU hidden layers (``hidden``: the
course's CartPole policy has one of 16, its Pixelcopter policy two, of 64 and 128) and a
softmax; Adam; returns discounted by ``gamma`` and normalised within each episode; at most
``max_t`` steps per episode. Only the seeding and the stop rule are added, so the benchmark
can stop it at the threshold; the loop is the course's.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

import gymnasium
import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical
from torch.nn import functional as F

from zoo.factory import env_entry
from zoo.tools.bench import StopRule, TrainRecord


class Policy(nn.Module):
    def __init__(self, state_size: int, action_size: int, hidden: Sequence[int]) -> None:
        super().__init__()
        sizes = [state_size, *hidden, action_size]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return F.softmax(self.layers[-1](x), dim=1)

    def act(self, state: np.ndarray) -> tuple[int, torch.Tensor]:
        probs = self.forward(torch.from_numpy(state).float().unsqueeze(0))
        m = Categorical(probs)
        action = m.sample()
        return action.item(), m.log_prob(action)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        """SB3's ``predict`` for evaluation (not part of the course's loop)."""
        with torch.no_grad():
            obs = torch.as_tensor(np.asarray(observation, dtype=np.float32)).reshape(-1, self.layers[0].in_features)
            probs = self.forward(obs)
        actions = probs.argmax(1) if deterministic else Categorical(probs).sample()
        actions = actions.numpy()
        return (actions if np.ndim(observation) > 1 else actions[0]), state


def train(env: str, seed: int, cap_steps: int, should_stop: StopRule, *, hidden: Sequence[int] = (16,),
          lr: float = 1e-2, gamma: float = 1.0, max_t: int = 1000) -> TrainRecord:
    start = time.perf_counter()
    torch.manual_seed(seed)
    environment = gymnasium.make(env_entry(env).gym_id)
    policy = Policy(environment.observation_space.shape[0], environment.action_space.n, hidden)
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    scores, steps_at, seconds_at = [], [], []
    env_steps = 0
    state, _ = environment.reset(seed=seed)
    eps = np.finfo(np.float32).eps.item()
    while env_steps < cap_steps:
        saved_log_probs, rewards = [], []
        if scores:
            state, _ = environment.reset()
        for _ in range(max_t):
            action, log_prob = policy.act(state)
            saved_log_probs.append(log_prob)
            state, reward, terminated, truncated, _ = environment.step(action)
            rewards.append(reward)
            if terminated or truncated:
                break
        env_steps += len(rewards)
        scores.append(sum(rewards))

        returns: deque[float] = deque(maxlen=max_t)
        for t in range(len(rewards))[::-1]:
            disc_return_t = returns[0] if returns else 0
            returns.appendleft(gamma * disc_return_t + rewards[t])
        returns_t = torch.tensor(returns)
        returns_t = (returns_t - returns_t.mean()) / (returns_t.std() + eps)
        policy_loss = torch.cat([-log_prob * g for log_prob, g in zip(saved_log_probs, returns_t)]).sum()
        optimizer.zero_grad()
        policy_loss.backward()
        optimizer.step()

        steps_at.append(env_steps)
        seconds_at.append(time.perf_counter() - start)
        if should_stop(scores):
            break
    environment.close()
    return TrainRecord(scores, steps_at, seconds_at, policy, env_steps, time.perf_counter() - start)
