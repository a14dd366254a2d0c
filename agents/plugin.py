"""Agent plugin: the built-in agents."""

from __future__ import annotations

from zoo import hookimpl


@hookimpl
def register_agents(registry) -> None:
    registry.add_agent("hardcoded", "zoo.agents.hardcoded:Hardcoded",
                       description="the env plugin's fixed policy (no learning)")
    registry.add_agent("reinforce", "zoo.agents.reinforce:Reinforce",
                       description="Monte-Carlo policy gradient (Williams 1992)")
    registry.add_agent("reinforce-baseline", "zoo.agents.reinforce:ReinforceBaseline",
                       description="REINFORCE with a learned state-value baseline")


@hookimpl
def register_hub_formats(registry) -> None:
    registry.add_format("deep-rl-course", detect="zoo.agents.course_format:detect",
                        load="zoo.agents.course_format:load",
                        description="model.pt, a REINFORCE policy from the Deep RL course")
