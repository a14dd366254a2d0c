"""agent-zoo: a plugin-based reinforcement-learning agent zoo.

``zoo`` is the public API, for Python users and plugin authors alike: every name below is a
promise, and every ``zoo.<submodule>`` is private (docs/deprecations.md lists the old paths
that still work, with a warning). The Python API (plugins are discovered lazily, on first use)::

    import zoo
    env = zoo.make_env("cartpole")                       # a gymnasium env
    agent = zoo.make_agent("reinforce", "cartpole", seed=0)
    result = zoo.train("reinforce", "cartpole", seed=0, steps=50_000, out="runs/demo")
    trained = zoo.load_agent(result.run_dir)
    print(zoo.evaluate(trained, "cartpole", episodes=20).summary())

A plugin (docs/plugins.md)::

    import zoo

    @zoo.hookimpl
    def register_envs(registry: zoo.EnvRegistry) -> None:
        registry.add_env(name="my-env", gym_id="my_pkg/MyEnv-v0", entry_point="my_pkg.env:MyEnv")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zoo import deprecations

if TYPE_CHECKING:  # what the names below are, for type checkers and API docs (imported lazily at run time)
    from zoo.agent_base import Agent as Agent
    from zoo.agent_base import ForeignConfig as ForeignConfig
    from zoo.agent_base import Iteration as Iteration
    from zoo.agent_base import hyperparameter as hyperparameter
    from zoo.agent_base import supports_spaces as supports_spaces
    from zoo.entries import AgentEntry as AgentEntry
    from zoo.entries import EnvEntry as EnvEntry
    from zoo.exceptions import ZooError as ZooError
    from zoo.exceptions import one_line as one_line
    from zoo.factory import agent_entry as agent_entry
    from zoo.factory import configured_env as configured_env
    from zoo.factory import env_entry as env_entry
    from zoo.factory import episode_step_cap as episode_step_cap
    from zoo.factory import hardcoded_policy as hardcoded_policy
    from zoo.factory import list_agents as list_agents
    from zoo.factory import list_envs as list_envs
    from zoo.factory import load_agent as load_agent
    from zoo.factory import make_agent as make_agent
    from zoo.factory import make_env as make_env
    from zoo.factory import make_vec_env as make_vec_env
    from zoo.factory import save_agent as save_agent
    from zoo.hub.formats import load_hub_policy as load_hub_policy
    from zoo.hub.repo_ids import validate_repo_id as validate_repo_id
    from zoo.hub_format import HubFormatEntry as HubFormatEntry
    from zoo.hub_format import HubPolicy as HubPolicy
    from zoo.hub_format import HubRepo as HubRepo
    from zoo.plugin_api import PLUGIN_API_VERSION as PLUGIN_API_VERSION
    from zoo.plugin_api import hookimpl as hookimpl
    from zoo.plugin_loader import LoadedPlugins as LoadedPlugins
    from zoo.plugin_loader import PluginInfo as PluginInfo
    from zoo.plugin_loader import PluginLoadWarning as PluginLoadWarning
    from zoo.plugin_loader import discover_plugins as discover_plugins
    from zoo.plugin_loader import plugins as plugins
    from zoo.plugin_loader import reload_plugins as reload_plugins
    from zoo.policy import FixedPolicy as FixedPolicy
    from zoo.policy import PolicyPredictor as PolicyPredictor
    from zoo.policy_sources import LoadedPolicy as LoadedPolicy
    from zoo.policy_sources import PolicySource as PolicySource
    from zoo.policy_sources import find_policy as find_policy
    from zoo.policy_sources import init_from as init_from
    from zoo.policy_sources import load_policy as load_policy
    from zoo.policy_sources import resolve_policy as resolve_policy
    from zoo.recording import record as record
    from zoo.registration import AgentRegistry as AgentRegistry
    from zoo.registration import EnvRegistry as EnvRegistry
    from zoo.registration import HubFormatRegistry as HubFormatRegistry
    from zoo.remote_code import UnpicklingWarning as UnpicklingWarning
    from zoo.remote_code import require_trust as require_trust
    from zoo.scoring import EvalResult as EvalResult
    from zoo.scoring import evaluate as evaluate
    from zoo.scoring import evaluate_with_sb3 as evaluate_with_sb3
    from zoo.threads import use_torch_threads as use_torch_threads
    from zoo.tools.checks import EnvCheck as EnvCheck
    from zoo.tools.checks import check_all_envs as check_all_envs
    from zoo.tools.checks import check_env as check_env
    from zoo.tools.checks import check_plugin as check_plugin
    from zoo.tools.checks import run_agent_smoke as run_agent_smoke
    from zoo.tools.sweep import plan_sweep as plan_sweep
    from zoo.tools.sweep import run_sweep as run_sweep
    from zoo.training.budget import BudgetTooSmall as BudgetTooSmall
    from zoo.training.initial_weights import InitWeights as InitWeights
    from zoo.training.resuming import resume as resume
    from zoo.training.session import Progress as Progress
    from zoo.training.session import RunPlan as RunPlan
    from zoo.training.session import Session as Session
    from zoo.training.session import TrainResult as TrainResult
    from zoo.training.session import plan_run as plan_run
    from zoo.training.session import start as start_run
    from zoo.training.session import train as train
    from zoo.training.state import load_optimizer_state as load_optimizer_state
    from zoo.training.state import numpy_rng as numpy_rng
    from zoo.training.state import numpy_rng_state as numpy_rng_state
    from zoo.training.state import optimizer_state as optimizer_state

#: Each public name: ``(module, name there)``, imported on first use. Submodules import
#: gymnasium, torch and friends: ``import zoo`` itself stays instant.
_LAZY: dict[str, tuple[str, str]] = {
    **{name: ("zoo.agent_base", name) for name in (
        "Agent", "ForeignConfig", "Iteration", "hyperparameter", "supports_spaces")},
    **{name: ("zoo.entries", name) for name in ("AgentEntry", "EnvEntry")},
    **{name: ("zoo.exceptions", name) for name in ("ZooError", "one_line")},
    **{name: ("zoo.factory", name) for name in (
        "agent_entry", "configured_env", "env_entry", "episode_step_cap", "hardcoded_policy", "list_agents",
        "list_envs", "load_agent", "make_agent", "make_env", "make_vec_env", "save_agent")},
    "load_hub_policy": ("zoo.hub.formats", "load_hub_policy"),
    "validate_repo_id": ("zoo.hub.repo_ids", "validate_repo_id"),
    **{name: ("zoo.hub_format", name) for name in ("HubFormatEntry", "HubPolicy", "HubRepo")},
    **{name: ("zoo.plugin_api", name) for name in ("PLUGIN_API_VERSION", "hookimpl")},
    **{name: ("zoo.plugin_loader", name) for name in (
        "LoadedPlugins", "PluginInfo", "PluginLoadWarning", "discover_plugins", "plugins", "reload_plugins")},
    **{name: ("zoo.policy_sources", name) for name in (
        "LoadedPolicy", "PolicySource", "find_policy", "init_from", "load_policy", "resolve_policy")},
    **{name: ("zoo.policy", name) for name in ("FixedPolicy", "PolicyPredictor")},
    "record": ("zoo.recording", "record"),
    **{name: ("zoo.registration", name) for name in ("AgentRegistry", "EnvRegistry", "HubFormatRegistry")},
    **{name: ("zoo.remote_code", name) for name in ("UnpicklingWarning", "require_trust")},
    **{name: ("zoo.scoring", name) for name in ("EvalResult", "evaluate", "evaluate_with_sb3")},
    "use_torch_threads": ("zoo.threads", "use_torch_threads"),
    **{name: ("zoo.tools.checks", name) for name in (
        "EnvCheck", "check_all_envs", "check_env", "check_plugin", "run_agent_smoke")},
    **{name: ("zoo.tools.sweep", name) for name in ("plan_sweep", "run_sweep")},
    "BudgetTooSmall": ("zoo.training.budget", "BudgetTooSmall"),
    "InitWeights": ("zoo.training.initial_weights", "InitWeights"),
    "resume": ("zoo.training.resuming", "resume"),
    **{name: ("zoo.training.session", name) for name in (
        "Progress", "RunPlan", "Session", "TrainResult", "plan_run", "train")},
    "start_run": ("zoo.training.session", "start"),
    **{name: ("zoo.training.state", name) for name in (
        "load_optimizer_state", "numpy_rng", "numpy_rng_state", "optimizer_state")},
}

#: The public API, every name a promise (docs/deprecations.md: how one is ever retired).
__all__ = [
    "Agent", "AgentEntry", "AgentRegistry", "BudgetTooSmall", "EnvCheck", "EnvEntry", "EnvRegistry", "EvalResult",
    "FixedPolicy",
    "ForeignConfig", "HubFormatEntry", "HubFormatRegistry", "HubPolicy", "HubRepo", "InitWeights", "Iteration",
    "LoadedPlugins", "LoadedPolicy", "PLUGIN_API_VERSION", "PluginInfo", "PluginLoadWarning", "PolicyPredictor",
    "PolicySource", "Progress", "RunPlan", "Session", "TrainResult", "UnpicklingWarning", "ZooError", "agent_entry",
    "check_all_envs", "check_env", "check_plugin", "configured_env", "discover_plugins", "env_entry",
    "episode_step_cap", "evaluate",
    "evaluate_with_sb3", "find_policy", "hardcoded_policy", "hookimpl", "hyperparameter", "init_from", "list_agents",
    "list_envs", "load_agent", "load_hub_policy", "load_optimizer_state", "load_policy", "make_agent", "make_env",
    "make_vec_env", "numpy_rng", "numpy_rng_state", "one_line", "optimizer_state", "plan_run", "plan_sweep",
    "plugins", "record", "reload_plugins", "require_trust", "resolve_policy", "resume", "run_agent_smoke",
    "run_sweep", "save_agent", "start_run", "supports_spaces", "train", "use_torch_threads", "validate_repo_id"
]

deprecations.install()  # the old import paths (zoo.agent, zoo.contract, ...) keep working, with a warning


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
