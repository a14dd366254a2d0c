"""The ``hardcoded`` agent: a fixed policy supplied by the env's own plugin."""

from __future__ import annotations

from dataclasses import dataclass, field

import zoo
from zoo import Agent, EnvEntry


@dataclass
class HardcodedConfig:
    variant: str = field(default="default", metadata={"help": "which of the env's hardcoded policies to use"})


class Hardcoded(Agent):
    """Acts with a hardcoded policy registered by the env plugin; does not learn."""

    Config = HardcodedConfig
    learns = False

    def __init__(self, env: EnvEntry, config: HardcodedConfig | None = None, seed: int = 0) -> None:
        super().__init__(env, config, seed)
        self.policy = zoo.hardcoded_policy(env, self.config.variant)

    @classmethod
    def unsupported_reason(cls, env: EnvEntry) -> str | None:
        if not env.hardcoded:
            return f"its plugin ({env.plugin or 'unknown'}) ships no hardcoded policy"
        return None

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return self.policy.predict(observation, state=state, episode_start=episode_start,
                                   deterministic=deterministic)
