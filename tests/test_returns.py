import numpy as np
import pytest

from zoo.agents.returns import (
    advantages,
    discount_and_normalize_rewards,
    discount_rewards,
    discounted_returns_batch,
    normalize,
)


def test_discount_rewards_matches_the_seed_notebook():
    assert discount_rewards([10, 0, -50], 0.8).tolist() == [-22, -40, -50]


def test_discount_and_normalize_across_a_batch_matches_the_seed_notebook():
    first, second = discount_and_normalize_rewards([[10, 0, -50], [10, 20]], 0.8)
    np.testing.assert_allclose(first, [-0.28435071, -0.86597718, -1.18910299], rtol=1e-7)
    np.testing.assert_allclose(second, [1.26665318, 1.0727777], rtol=1e-7)


def test_per_episode_normalisation_centres_each_episode():
    first, second = discount_and_normalize_rewards([[10, 0, -50], [10, 20]], 0.8, per_episode=True)
    assert abs(first.mean()) < 1e-9 and abs(second.mean()) < 1e-9
    assert first.std() == pytest.approx(1, rel=1e-5)


def test_constant_returns_normalise_to_zero_not_nan():
    assert normalize(np.full(4, 3.0)).tolist() == [0, 0, 0, 0]


def test_batched_returns_agree_with_per_episode_returns():
    episodes = [[1.0, 2.0, 3.0], [5.0], [0.5, -1.0]]
    horizon = max(map(len, episodes))
    rewards = np.zeros((horizon, len(episodes)))
    active = np.zeros((horizon, len(episodes)), dtype=bool)
    for i, ep in enumerate(episodes):
        rewards[: len(ep), i] = ep
        active[: len(ep), i] = True
        rewards[len(ep):, i] = 99.0  # rewards after an episode ends must be ignored
    batch = discounted_returns_batch(rewards, active, 0.9)
    for i, ep in enumerate(episodes):
        np.testing.assert_allclose(batch[: len(ep), i], discount_rewards(ep, 0.9))
        assert (batch[len(ep):, i] == 0).all()


def test_advantages_subtract_the_baseline():
    assert advantages([3.0, 1.0], [1.0, 1.5]).tolist() == [2.0, -0.5]
