"""The sb3-* agents' defaults are their algorithm's: a hyperparameter the zoo passes to SB3 or
sb3-contrib has the default of that class's constructor, except the documented ones (a smaller
replay buffer; the CPU). rl-zoo's files set only what differs from the algorithm's defaults, so
any other difference changes what an entry trains (QR-DQN once clipped gradients at DQN's 10:
rl-zoo's CartPole entry then scored 378 where rl_zoo3 scores 500)."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from zoo.factory import make_agent

#: Where the zoo's default differs from SB3's on purpose (docs/agents.md).
ON_PURPOSE = {"buffer_size", "device"}

AGENTS = [("sb3-ppo", "CartPole-v1"), ("sb3-a2c", "CartPole-v1"), ("sb3-dqn", "CartPole-v1"),
          ("sb3-sac", "Pendulum-v1"), ("sb3-td3", "Pendulum-v1"), ("sb3-ddpg", "Pendulum-v1"),
          ("sb3-ars", "CartPole-v1"), ("sb3-crossq", "Pendulum-v1"), ("sb3-qrdqn", "CartPole-v1"),
          ("sb3-tqc", "Pendulum-v1"), ("sb3-trpo", "CartPole-v1"), ("sb3-ppo-lstm", "CartPole-v1")]


@pytest.mark.parametrize("agent,env", AGENTS)
def test_every_default_passed_to_the_algorithm_is_the_algorithms_own(agent, env):
    learner = make_agent(agent, env, seed=0)
    algorithm = type(learner.model)
    signature = inspect.signature(algorithm.__init__).parameters
    differ = {}
    for field in dataclasses.fields(learner.config):
        theirs = signature.get(field.name)
        if field.name in ON_PURPOSE or theirs is None or theirs.default is inspect.Parameter.empty:
            continue
        ours = list(field.default) if isinstance(field.default, tuple) else field.default
        if ours != theirs.default:
            differ[field.name] = (field.default, theirs.default)
    assert differ == {}, f"{agent}: zoo default vs {algorithm.__name__}'s"


def test_qrdqn_clips_no_gradient_by_default_and_takes_a_clip_when_asked():
    assert make_agent("sb3-qrdqn", "CartPole-v1", seed=0).model.max_grad_norm is None
    clipped = make_agent("sb3-qrdqn", "CartPole-v1", seed=0, overrides={"max_grad_norm": 10})
    assert clipped.model.max_grad_norm == 10
