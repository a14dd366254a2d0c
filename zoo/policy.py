"""What acts: anything with stable-baselines3's ``predict`` (:class:`PolicyPredictor`), and the
base of the hardcoded policies env plugins ship (:class:`FixedPolicy`). Public as
``zoo.PolicyPredictor`` and ``zoo.FixedPolicy``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class PolicyPredictor(Protocol):
    """Anything with SB3's ``predict``: zoo agents, hardcoded policies and SB3 models alike."""

    def predict(
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]: ...


class FixedPolicy(ABC):
    """Base for hardcoded policies shipped by env plugins: a pure function of the observation
    batch, wrapped in SB3's ``predict`` signature. Policies with memory implement ``predict``."""

    @abstractmethod
    def act(self, observations: np.ndarray) -> np.ndarray:
        """Actions for a batch of observations."""

    def predict(
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        observation = np.asarray(observation)
        batched = observation.ndim > 1
        actions = self.act(observation if batched else observation[None])
        return (actions if batched else actions[0]), state
