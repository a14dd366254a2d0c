"""The zoo plugin: registers the Catch env, its hardcoded policy and a ``zoo catch-play`` command.

Nothing here runs the env: registering is cheap, and ``zoo check catch`` is what exercises it.
"""

from __future__ import annotations

import numpy as np

from zoo import FixedPolicy, hookimpl

#: The zoo plugin API versions this plugin is written for (`zoo plugins` shows it).
zoo_plugin_api = ">=1.2,<2"


class FollowBall(FixedPolicy):
    """Move the paddle toward the ball's column: catches every ball (return = number of balls)."""

    def act(self, observations: np.ndarray) -> np.ndarray:
        return (np.sign(observations[:, 0] - observations[:, 2]) + 1).astype(np.int64)


class StayPut(FixedPolicy):
    """Never move: catches only the balls that fall in the middle column."""

    def act(self, observations: np.ndarray) -> np.ndarray:
        return np.ones(len(observations), dtype=np.int64)


@hookimpl
def register_envs(registry) -> None:
    registry.add_env(
        name="catch",
        gym_id="zoo_catch/Catch-v0",
        entry_point="zoo_catch.env:CatchEnv",
        reward_threshold=9.5,
        hardcoded={"default": FollowBall, "stay": StayPut},
        description="Catch falling balls with a paddle (zoo-catch plugin)",
    )


@hookimpl
def register_commands(cli) -> None:
    import typer

    @cli.command(name="catch-play")
    def catch_play(
        seed: int = typer.Option(0, help="random seed of the ball drops"),
        balls: int = typer.Option(3, min=1, help="balls to play"),
        variant: str = typer.Option("default", help="which hardcoded policy plays"),
    ) -> None:
        """Watch a hardcoded policy play Catch in the terminal."""
        import zoo

        env = zoo.make_env("catch", render_mode="ansi", balls=balls)
        policy = zoo.make_agent("hardcoded", "catch", overrides={"variant": variant})
        observation, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            typer.echo(env.render())
            action, _ = policy.predict(observation, deterministic=True)
            observation, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        env.close()
        typer.echo(f"return {total:+.0f} over {balls} balls")
