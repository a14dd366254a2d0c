"""agent-zoo: a plugin-based reinforcement-learning agent zoo.

The Python API (plugins are discovered lazily, on first use)::

    import zoo
    env = zoo.make_env("cartpole")                       # a gymnasium env
    agent = zoo.make_agent("reinforce", "cartpole", seed=0)
    result = zoo.train("reinforce", "cartpole", seed=0, steps=50_000, out="runs/demo")
    trained = zoo.load_agent(result.run_dir)
    print(zoo.evaluate(trained, "cartpole", episodes=20).summary())
"""

from __future__ import annotations

__all__ = [
    "Agent", "FixedPolicy", "Iteration", "ZooError", "hookimpl", "make_env", "make_vec_env", "make_agent",
    "load_agent", "load_policy", "save_agent", "train", "resume", "evaluate", "record", "list_envs", "list_agents",
    "plugins",
]

#: Public names imported on first use, and the module each lives in.
_LAZY = {
    "Agent": "zoo.contract",
    "FixedPolicy": "zoo.contract",
    "Iteration": "zoo.contract",
    "ZooError": "zoo.errors",
    "hookimpl": "zoo.hookspecs",
    "make_env": "zoo.factory",
    "make_vec_env": "zoo.factory",
    "make_agent": "zoo.factory",
    "load_agent": "zoo.factory",
    "load_policy": "zoo.policies", "find_policy": "zoo.policies", "resolve_policy": "zoo.policies",
    "save_agent": "zoo.factory",
    "train": "zoo.training",
    "resume": "zoo.training",
    "evaluate": "zoo.evaluation",
    "record": "zoo.recording",
}


def list_envs() -> list:
    """Every registered env (:class:`zoo.registry.EnvEntry`)."""
    from zoo.plugin_loader import loaded_plugins

    return list(loaded_plugins().envs)


def list_agents() -> list:
    """Every registered agent (:class:`zoo.registry.AgentEntry`)."""
    from zoo.plugin_loader import loaded_plugins

    return list(loaded_plugins().agents)


def plugins() -> list:
    """Every discovered plugin (:class:`zoo.plugin_loader.PluginInfo`) with what it registered
    and any load error."""
    from zoo.plugin_loader import loaded_plugins

    return list(loaded_plugins().plugins)


def __getattr__(name: str) -> object:
    # Submodules import gymnasium, torch and friends: keep `import zoo` itself instant.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
