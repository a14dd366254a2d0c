"""Package discovery; everything else is in pyproject.toml.

The repository keeps the built-in plugins in agents/ and envs/ at the top level, but they
install as zoo.agents and zoo.envs, so that installing agent-zoo never puts packages called
``agents`` or ``envs`` into site-packages. setuptools' own ``packages.find`` names packages
after their folders and cannot add that prefix, so it is added here: every package below
zoo/, agents/ and envs/ is found, and a new built-in env or agent needs no edit here.
"""

from setuptools import find_packages, setup


def packages_in(folder: str, name: str) -> list[str]:
    return [name, *(f"{name}.{package}" for package in find_packages(folder))]


setup(
    package_dir={"zoo": "zoo", "zoo.agents": "agents", "zoo.envs": "envs"},
    packages=[*find_packages(include=["zoo", "zoo.*"]), *packages_in("agents", "zoo.agents"),
              *packages_in("envs", "zoo.envs")],
)
