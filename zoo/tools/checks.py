"""Helpers for testing zoo plugins, for plugin authors' test suites (and the zoo's own); public
as ``zoo.check_plugin``, ``zoo.check_env``, ``zoo.check_all_envs``, ``zoo.run_agent_smoke`` and
``zoo.EnvCheck``.

In a plugin's tests, with the plugin installed (``pip install -e .``)::

    from zoo import check_plugin, run_agent_smoke

    def test_plugin_loads_and_its_envs_pass_gymnasiums_checker():
        info = check_plugin("catch")          # the entry-point name
        assert info.envs == ["catch"]

    def test_agent_trains_saves_loads_and_evaluates(tmp_path):
        run_agent_smoke("cem", "cartpole", tmp_path, steps=2_000)

Set ``ZOO_STRICT_PLUGINS=1`` in CI so that any plugin load error fails the run.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from zoo import headless
from zoo.catalog import agents_that_fit
from zoo.env_names import import_env_module
from zoo.exceptions import ZooError, one_line
from zoo.factory import load_agent, make_agent, make_env
from zoo.plugin_loader import LoadedPlugins, PluginInfo, loaded_plugins, reload_plugins
from zoo.scoring import evaluate_with_sb3
from zoo.training.session import train

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

__all__ = ["EnvCheck", "check_env", "check_all_envs", "check_plugin", "run_agent_smoke"]


@dataclass
class EnvCheck:
    """What gymnasium's env checker said about one zoo env."""

    env: str
    gym_id: str
    plugin: str
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: The agents whose spaces fit the env (as in ``zoo list --all``).
    agents: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def summary(self) -> str:
        """The verdict in plain words, one line per warning."""
        head = f"{self.env} ({self.gym_id}, plugin {self.plugin or 'unknown'}):"
        if self.error:
            return f"{head} FAILED: {self.error}"
        fit = f"  agents that fit: {', '.join(self.agents) or 'none'}"
        if not self.warnings:
            return f"{head} passed\n{fit}"
        lines = [f"{head} passed with {len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''}"]
        return "\n".join([*lines, *(f"  - {w}" for w in self.warnings), fit])


def _plain(message: Any) -> str:
    text = _ANSI.sub("", str(message)).strip()
    return text.removeprefix("WARN: ").strip()



def _check_render_modes(entry: Any) -> None:
    """Every declared render mode except "human" (which would open a window) renders after reset."""
    from gymnasium.utils.passive_env_checker import env_render_passive_checker

    headless.prepare()
    probe = gymnasium.make(entry.gym_id, disable_env_checker=True, **entry.kwargs)
    modes = [m for m in probe.metadata.get("render_modes", []) if m != "human"]
    probe.close()
    for mode in modes:
        env = gymnasium.make(entry.gym_id, render_mode=mode, disable_env_checker=True, **entry.kwargs)
        try:
            env.reset(seed=0)
            env_render_passive_checker(env.unwrapped)
        except Exception as exc:
            raise ZooError(f"cannot render {mode!r}: {one_line(exc)}{headless.advice(exc)}") from exc
        finally:
            env.close()


def check_env(name: str, *, loaded: LoadedPlugins | None = None) -> EnvCheck:
    """Run gymnasium's ``check_env`` on the zoo env ``name`` (its unwrapped env, as gymnasium's
    own tests do) and on each non-human render mode; collect warnings instead of printing them;
    list the agents whose spaces fit it.

    An env that cannot even be created is a failed check, not an exception."""
    from gymnasium.utils.env_checker import check_env as gymnasium_check_env


    loaded = loaded or loaded_plugins()
    import_env_module(name)  # the caller's own name
    entry = loaded.envs.get(name)
    result = EnvCheck(entry.name, entry.gym_id, entry.plugin)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            try:
                env = gymnasium.make(entry.gym_id, disable_env_checker=True, **entry.kwargs)
            except Exception as exc:
                raise ZooError(f"could not create the env: {one_line(exc)}") from exc
            try:
                gymnasium_check_env(env.unwrapped, skip_render_check=True)
            finally:
                env.close()
            _check_render_modes(entry)
            result.agents = agents_that_fit(entry, loaded)
        except ZooError as exc:
            result.error = str(exc)
        except Exception as exc:  # the checker's verdict, or the env's own bug
            result.error = one_line(exc)
    seen: list[str] = []
    for warning in caught:
        text = _plain(warning.message)
        if text not in seen:
            seen.append(text)
    result.warnings = seen
    return result


def check_all_envs(*, loaded: LoadedPlugins | None = None) -> list[EnvCheck]:
    """``check_env`` on every registered env."""
    loaded = loaded or loaded_plugins()
    return [check_env(entry.name, loaded=loaded) for entry in loaded.envs]


def check_plugin(name: str, *, reload: bool = True, check_envs: bool = True) -> PluginInfo:
    """Assert that the installed plugin ``name`` (its entry-point name) loaded without error
    and registered something, and that each of its envs passes gymnasium's env checker.

    ``reload`` discovers plugins afresh first (after installing the plugin in the same
    process). Returns the plugin's :class:`zoo.PluginInfo`."""
    loaded = reload_plugins() if reload else loaded_plugins()
    try:
        info = loaded.plugin(name)
    except ZooError as exc:
        raise AssertionError(f"{exc} (is the plugin installed, with an entry point in the "
                             "'agent_zoo' group?)") from None
    assert info.error is None, f"plugin {name!r} failed to load: {info.error}"
    assert info.hooks, f"plugin {name!r} implements no hook"
    if check_envs:
        failed = [c.summary() for c in (check_env(env, loaded=loaded) for env in info.envs) if not c.passed]
        assert not failed, "\n".join(failed)
    return info


def _first_observations(env: str, n: int, seed: int) -> np.ndarray:

    made = make_env(env)
    try:
        return np.stack([made.reset(seed=seed + i)[0] for i in range(n)])
    finally:
        made.close()


def run_agent_smoke(agent: str, env: str, out: str | Path, *, steps: int = 2_000, seed: int = 0,
                    episodes: int = 3, overrides: dict[str, Any] | None = None) -> Any:
    """Exercise an agent through the zoo's own train / checkpoint / evaluate path.

    For a learning agent: trains twice for ``steps`` env steps with the same seed (the
    returns must be identical), loads the checkpoint from the run folder and checks that it acts
    exactly as the same checkpoint loaded again, with actions inside the action space. A fixed
    policy is only evaluated, with stable-baselines3's own ``evaluate_policy`` (the contract
    every agent keeps). Returns the :class:`zoo.EvalResult` of ``episodes`` episodes."""

    out = Path(out)
    policy = make_agent(agent, env, seed=seed, overrides=overrides)
    if policy.learns:
        first = train(agent, env, seed=seed, steps=steps, out=out / "run-a", overrides=overrides)
        second = train(agent, env, seed=seed, steps=steps, out=out / "run-b", overrides=overrides)
        assert first.returns, f"{agent} on {env}: training finished no episode in {steps} steps"
        assert first.returns == second.returns, f"{agent} on {env}: the same seed gave different returns"
        policy = load_agent(first.run_dir, agent=agent, env=env)
        again = load_agent(first.checkpoint, agent=agent, env=env)
        observations = _first_observations(env, 8, seed)
        actions, _ = policy.predict(observations, deterministic=True)
        actions_again, _ = again.predict(observations, deterministic=True)
        np.testing.assert_array_equal(actions, actions_again,
                                      err_msg=f"{agent} on {env}: a reloaded checkpoint acts differently")
        space = policy.env.action_space
        assert all(space.contains(a) for a in actions), f"{agent} on {env}: actions outside {space}"
    return evaluate_with_sb3(policy, env, episodes=episodes, seed=seed, deterministic=True)
