"""Agent plugin: the built-in agents."""

from __future__ import annotations

from zoo.hookspecs import hookimpl


@hookimpl
def register_agents(registry) -> None:
    registry.add_agent("hardcoded", "zoo.agents.hardcoded:Hardcoded",
                       description="the env plugin's fixed policy (no learning)")
    registry.add_agent("reinforce", "zoo.agents.reinforce:Reinforce",
                       description="Monte-Carlo policy gradient (Williams 1992)")
    registry.add_agent("reinforce-baseline", "zoo.agents.reinforce:ReinforceBaseline",
                       description="REINFORCE with a learned state-value baseline")
