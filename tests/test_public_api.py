"""``zoo`` is the public API: every public name resolves, lazily, to what type checkers are told
it is; ``import zoo`` stays light; and every import path that earlier docs gave keeps working
with a DeprecationWarning that names its new path, while the zoo's own code never uses one."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import zoo
from zoo import deprecations

REPO = Path(__file__).resolve().parent.parent
INIT = REPO / "zoo" / "__init__.py"


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


# -- the public names ------------------------------------------------------------------------------

def type_checking_names() -> dict[str, tuple[str, str]]:
    """``name -> (module, attribute)`` of the ``if TYPE_CHECKING:`` imports in zoo/__init__.py."""
    tree = ast.parse(INIT.read_text())
    block = next(node for node in tree.body
                 if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING")
    return {alias.asname or alias.name: (node.module, alias.name)
            for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names}


def test_all_is_the_lazy_table_and_type_checkers_see_the_same_objects():
    assert zoo.__all__ == sorted(zoo._LAZY)
    assert type_checking_names() == zoo._LAZY


@pytest.mark.parametrize("name", zoo.__all__)
def test_each_public_name_is_the_object_defined_in_its_module(name):
    module, attribute = zoo._LAZY[name]
    assert getattr(zoo, name) is getattr(importlib.import_module(module), attribute)
    assert not module.startswith(("zoo.agents", "zoo.envs", "zoo.cli"))


def test_no_submodule_is_named_like_a_public_name():
    # Importing zoo.X binds it to zoo.X: a submodule named like a public function would hide it.
    submodules = {info.name for info in pkgutil.iter_modules(zoo.__path__)}
    assert submodules & set(zoo.__all__) == set()


def test_import_zoo_is_light():
    done = python("import sys, json, zoo; print(json.dumps(sorted(m for m in ('gymnasium', 'numpy', 'torch', "
                  "'pluggy', 'packaging') if m in sys.modules)))")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = zoo.no_such_name
    assert not hasattr(zoo, "Registry")


# -- old paths -------------------------------------------------------------------------------------

#: Old paths whose module still defines the name itself (so no warning yet): zoo/tools/sweep.py
#: is being split into plan, run and report, after which it forwards them too.
DEFINED_IN_PLACE = {"zoo.tools.sweep.plan_sweep", "zoo.tools.sweep.run_sweep"}


@pytest.mark.parametrize("old", sorted(deprecations.MOVED))
def test_every_old_path_works_warns_with_its_new_path_and_is_the_same_object(old):
    module_name, _, name = old.rpartition(".")
    new = deprecations.MOVED[old]
    assert new.startswith("zoo.") and new.removeprefix("zoo.") in zoo.__all__
    module = importlib.import_module(module_name)
    if old in DEFINED_IN_PLACE:
        assert name in vars(module)
        assert getattr(module, name) is getattr(zoo, new.removeprefix("zoo."))
        return
    with pytest.warns(DeprecationWarning) as caught:
        value = getattr(module, name)
    [warning] = caught
    assert str(warning.message) == f"{old} is deprecated since agent-zoo {deprecations.DEPRECATED_IN} and will be " \
                                   f"removed in {deprecations.REMOVED_IN}: use {new}"
    assert warning.filename == __file__  # attributed to the line that used it
    assert value is getattr(zoo, new.removeprefix("zoo."))


def test_the_old_paths_that_docs_gave_are_all_kept():
    # The import paths the README and docs told users and plugin authors, at some commit.
    told = {
        "zoo.agent.Agent", "zoo.agent.Iteration", "zoo.agent.FixedPolicy", "zoo.agent.supports_spaces",
        "zoo.hookspecs.hookimpl", "zoo.testing.check_plugin", "zoo.testing.check_env",
        "zoo.testing.check_all_envs", "zoo.testing.run_agent_smoke", "zoo.plugins.discover",
        "zoo.config.hyperparameter", "zoo.errors.ZooError", "zoo.registry.EnvRegistry", "zoo.registry.AgentRegistry",
        "zoo.registry.HubFormatRegistry", "zoo.registry.EnvEntry", "zoo.contract.Agent", "zoo.contract.Iteration",
        "zoo.contract.FixedPolicy", "zoo.contract.ForeignConfig", "zoo.contract.supports_spaces",
        "zoo.tools.testing.check_plugin", "zoo.tools.testing.run_agent_smoke", "zoo.tools.testing.check_env",
        "zoo.tools.testing.check_all_envs", "zoo.plugin_loader.discover", "zoo.hub.HubPolicy", "zoo.hub.HubRepo",
        "zoo.hub.load_hub_policy", "zoo.hub.trust.require_trust", "zoo.hub.ids.validate_repo_id",
        "zoo.trust.require_trust", "zoo.hub_ids.validate_repo_id", "zoo.sweep.plan_sweep", "zoo.sweep.run_sweep",
        "zoo.tools.sweep.plan_sweep", "zoo.tools.sweep.run_sweep", "zoo.training.train", "zoo.training.resume",
        "zoo.training.start", "zoo.training.plan_run", "zoo.evaluation.evaluate", "zoo.evaluation.evaluate_with_sb3",
    }
    assert told <= set(deprecations.MOVED)


def test_the_import_statements_of_old_plugins_warn_once_each_in_the_plugins_name():
    source = ("from zoo.agent import Agent, Iteration\n"
              "from zoo.hookspecs import hookimpl\n"
              "from zoo.hub import HubRepo\n"
              "import zoo.testing\n"
              "check = zoo.testing.check_plugin\n")
    namespace = {"__name__": "old_style_plugin"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(source, "old_style_plugin.py", "exec"), namespace)
    assert [(str(w.message).split()[0], w.filename, w.lineno) for w in caught] == [
        ("zoo.agent.Agent", "old_style_plugin.py", 1), ("zoo.agent.Iteration", "old_style_plugin.py", 1),
        ("zoo.hookspecs.hookimpl", "old_style_plugin.py", 2), ("zoo.hub.HubRepo", "old_style_plugin.py", 3),
        ("zoo.testing.check_plugin", "old_style_plugin.py", 5)]
    assert (namespace["Agent"], namespace["hookimpl"], namespace["check"]) == (zoo.Agent, zoo.hookimpl,
                                                                               zoo.check_plugin)
    assert deprecations.uses("old_style_plugin") == [
        "zoo.agent.Agent: use zoo.Agent", "zoo.agent.Iteration: use zoo.Iteration",
        "zoo.hookspecs.hookimpl: use zoo.hookimpl", "zoo.hub.HubRepo: use zoo.HubRepo",
        "zoo.testing.check_plugin: use zoo.check_plugin"]


def test_python_shows_the_warning_to_a_script_and_hides_it_from_a_library():
    script = python("from zoo.agent import Agent")
    assert script.returncode == 0, script.stderr
    assert "DeprecationWarning: zoo.agent.Agent is deprecated" in script.stderr and "use zoo.Agent" in script.stderr
    library = python("import types, sys\n"
                     "module = types.ModuleType('some_plugin')\n"
                     "exec('from zoo.contract import FixedPolicy', module.__dict__)\n")
    assert library.returncode == 0 and library.stderr == ""


def test_importing_the_old_plugins_module_keeps_zoo_plugins_a_function():
    done = python("import zoo, warnings\n"
                  "warnings.simplefilter('ignore')\n"
                  "import zoo.plugins\n"
                  "from zoo.plugins import discover\n"
                  "assert discover is zoo.discover_plugins\n"
                  "print(sorted(p.name for p in zoo.plugins())[:2])\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['box2d-envs', 'builtin-agents']"


def test_an_unknown_name_of_an_old_module_is_an_attribute_error():
    import zoo.contract

    with pytest.raises(ImportError, match="pretrained_name"):
        exec("from zoo.contract import pretrained_name", {})
    with pytest.raises(AttributeError, match="'zoo.hookspecs' has no attribute 'hookspecs_of_old'"):
        _ = zoo.hookspecs.hookspecs_of_old
    assert "Agent" in dir(zoo.contract)


def test_the_zoos_own_modules_use_no_old_path():
    # Every module of the zoo imported afresh with DeprecationWarnings as errors.
    code = ("import pkgutil, importlib, warnings, zoo, zoo.agents, zoo.envs\n"
            "warnings.simplefilter('error', DeprecationWarning)\n"
            "for package in (zoo, zoo.agents, zoo.envs):\n"
            "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
            "        if not info.name.endswith('__main__'):\n"
            "            importlib.import_module(info.name)\n"
            "for name in zoo.__all__:\n"
            "    getattr(zoo, name)\n"
            "print('ok')\n")
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_deprecation_page_lists_exactly_the_old_paths():
    text = (REPO / "docs" / "deprecations.md").read_text()
    rows = re.findall(r"^\| (`zoo[^|]+) \| `(zoo\.\w+)` \|$", text, flags=re.M)
    listed = {old.strip("`"): new for olds, new in rows for old in olds.split(", ")}
    assert listed == deprecations.MOVED
    assert f"deprecated in {deprecations.DEPRECATED_IN}" in text
    assert f"removed in {deprecations.REMOVED_IN}" in text
    changelog = (REPO / "docs" / "changelog.md").read_text()
    assert f"({deprecations.DEPRECATED_IN})" in changelog and "### Deprecated" in changelog


def test_built_in_env_imports_that_the_readme_gives_still_register_their_ids():
    done = python("import warnings, gymnasium\n"
                  "warnings.simplefilter('error', DeprecationWarning)\n"
                  "import zoo.envs.pixelcopter\n"
                  "assert 'Pixelcopter-PLE-v0' in gymnasium.registry\n"
                  "env = gymnasium.make('zoo.envs.pixelcopter:Pixelcopter-PLE-v0')\n"
                  "print(env.reset(seed=0)[0].shape)\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(7,)"


def test_zoo_tools_tune_keeps_every_public_name_of_the_module_it_was():
    """zoo/tools/tune.py became the package zoo/tools/tune/: the import path and every public
    name of the module stay where they were (no docs page named them; scripts may have)."""
    import warnings

    import zoo.tools.tune as tune

    names = ["OBJECTIVES", "search_space", "TrialSpec", "steps_to_threshold", "run_trial", "TunePlan", "default_out",
             "plan_tune", "make_pruner", "open_study", "TuneOutcome", "run_tune", "toml_value", "typed_params",
             "best_config_toml", "defaults_table_toml", "trials_csv", "write_outputs", "summary"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a move inside the package is not a deprecation
        missing = [name for name in names if not hasattr(tune, name)]
    assert missing == []
