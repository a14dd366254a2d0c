"""`zoo sweep`: planning and validation, the local process pool and a real local Ray instance
running the same sweep (results must agree run for run), resuming, failures, and plugins
reaching the workers."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zoo.cli import app
from zoo.exceptions import ZooError
from zoo.execution import connect_ray, ray_over_loopback, shutdown_ray
from zoo.plugin_loader import reload_plugins
from zoo.tools.sweep import (
    RESULT_FILE,
    mean_std,
    parse_grid,
    parse_seeds,
    plan_sweep,
    run_sweep,
    split_values,
    summarize,
    summary_markdown,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_PLUGINS = [REPO / "plugins" / "zoo-catch", REPO / "plugins" / "zoo-cem"]

# Third-party agents, installed only for these tests: REINFORCE that raises on odd seeds, so a
# sweep has a run that fails half-way on the worker (after the driver's checks passed), and
# one that takes its worker process down on odd seeds.
FLAKY_SOURCE = """
import os

from zoo.agents.reinforce import Reinforce
from zoo.plugin_api import hookimpl


class Flaky(Reinforce):
    def train_iteration(self):
        if self.seed % 2:
            raise RuntimeError("flaky agent fails on odd seeds\\nthis second line is not recorded")
        return super().train_iteration()


class Crashy(Reinforce):
    def train_iteration(self):
        if self.seed % 2:
            os._exit(3)
        return super().train_iteration()


@hookimpl
def register_agents(registry):
    registry.add_agent("flaky", "zoo_flaky:Flaky", description="fails on odd seeds")
    registry.add_agent("crashy", "zoo_flaky:Crashy", description="kills its process on odd seeds")
"""

#: The sweep both backends run: 4 runs, one of which fails.
SWEEP = dict(agents="reinforce,flaky", envs="cartpole", seeds="0-1", train_steps=600, eval_episodes=2)
#: A sweep over the example third-party plugins: zoo-cem's agent and zoo-catch's env.
PLUGIN_SWEEP = dict(agents="cem,reinforce", envs="catch", seeds="0", train_steps=300, eval_episodes=2)
TIMING_COLUMNS = {"train_seconds", "seconds"}


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plugin_paths(tmp_path_factory, write_distribution) -> list[Path]:
    """Folders holding installed plugin distributions: the flaky agent, and the example
    plugins from plugins/ installed with pip (from a copy, so their source tree stays clean)."""
    flaky = write_distribution(tmp_path_factory.mktemp("flaky"), "zoo-flaky", "0.1.0",
                               {"zoo_flaky": FLAKY_SOURCE}, {"flaky": "zoo_flaky"})
    paths = [flaky]
    if all(p.is_dir() for p in EXAMPLE_PLUGINS):
        sources, target = tmp_path_factory.mktemp("plugin-src"), tmp_path_factory.mktemp("site")
        copies = [shutil.copytree(p, sources / p.name, ignore=shutil.ignore_patterns(
            "build", "*.egg-info", "__pycache__")) for p in EXAMPLE_PLUGINS]
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                        "--no-index", "--target", str(target), *map(str, copies)], check=True)
        paths.append(target)
    return paths


@pytest.fixture(scope="module")
def plugins_installed(plugin_paths):
    """The plugins visible to this process (sys.path) and to every process it starts
    (PYTHONPATH, which spawned pool workers and a Ray started here inherit)."""
    with pytest.MonkeyPatch.context() as mp:
        for path in reversed(plugin_paths):
            mp.syspath_prepend(str(path))
        mp.setenv("PYTHONPATH", os.pathsep.join([*map(str, plugin_paths), os.environ.get("PYTHONPATH", "")]))
        reload_plugins()
        yield plugin_paths
    reload_plugins()


@pytest.fixture(scope="module")
def ray_local(plugins_installed):
    """A real local Ray instance with 2 CPUs, started the way `zoo sweep --backend ray` starts
    one (``ray.init(address="local", num_cpus=2, include_dashboard=False)``), on loopback only:
    checked here before anything runs."""
    with pytest.MonkeyPatch.context() as mp:
        # Read by Ray at import: without the first, Ray advertises the external interface.
        mp.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError as exc:
            pytest.skip(f"Ray is not installed ({exc}); pip install -e '.[ray]' to run the Ray backend tests")
        assert connect_ray(None, workers=2), "no Ray was running before, so this call started one"
        try:
            assert ray.util.get_node_ip_address() == "127.0.0.1"
            assert [n["NodeManagerAddress"] for n in ray.nodes()] == ["127.0.0.1"]
            assert ray.cluster_resources()["CPU"] == 2
            yield ray
        finally:
            shutdown_ray()  # connect_ray's pair: Ray's shutdown, and its reaper's


@pytest.fixture(scope="module")
def local_sweep(plugins_installed, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    outcome = run_sweep(plan_sweep(out=out, **SWEEP), backend="local", workers=2)
    return outcome


# -- helpers --------------------------------------------------------------------------------------
def table(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "results.csv", newline="") as f:
        return {row["run_id"]: {k: v for k, v in row.items() if k not in TIMING_COLUMNS}
                for row in csv.DictReader(f)}


def training_returns(out: Path) -> dict[str, list[str]]:
    """Each run's training episode returns, from its run folder's returns.csv."""
    found = {}
    for run in sorted((out / "runs").iterdir()):
        if (run / "returns.csv").exists():
            with open(run / "returns.csv", newline="") as f:
                found[run.name] = [row["return"] for row in csv.DictReader(f)]
    return found


def eval_returns(out: Path) -> dict[str, object]:
    runs = json.loads((out / "results.json").read_text())["runs"]
    return {r["run_id"]: r["eval"] and (r["eval"]["returns"], r["eval"]["lengths"]) for r in runs}


def assert_same_results(a: Path, b: Path) -> None:
    assert table(a) == table(b)
    assert eval_returns(a) == eval_returns(b)
    assert training_returns(a) == training_returns(b)


# -- parsing and planning (no workers) ------------------------------------------------------------
def test_seeds_accept_ranges_lists_and_both():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,3,5") == [0, 3, 5]
    assert parse_seeds("7, 0-2, 1") == [7, 0, 1, 2]
    assert parse_seeds("3") == [3]


@pytest.mark.parametrize("text,complaint", [("3-1", "runs backwards"), ("a", "not a seed"), ("", "not a seed"),
                                            ("-1", "not a seed"), ("0-", "not a seed"), ("1,,2", "not a seed")])
def test_bad_seeds_are_refused_with_what_would_work(text, complaint):
    with pytest.raises(ZooError, match=complaint):
        parse_seeds(text)


def test_grid_values_split_on_commas_except_inside_brackets():
    assert parse_grid(["learning_rate=0.01,0.03", "gamma=0.99"]) == {"learning_rate": ["0.01", "0.03"],
                                                                      "gamma": ["0.99"]}
    assert split_values("[64,64],[32]") == ["64,64", "32"]
    for bad in (["learning_rate"], ["=1"], ["learning_rate=0.1,"], ["net_arch=[64,64"], ["gamma=1", "gamma=2"]):
        with pytest.raises(ZooError):
            parse_grid(bad)


def test_plan_is_the_full_grid_with_canonical_names(tmp_path):
    plan = plan_sweep("reinforce", "cartpole,CartPole-v1", "0-2",
                      grid={"learning_rate": ["0.01", "0.03"], "net_arch": ["16", "8,8"]},
                      train_steps=100, out=tmp_path)
    assert len(plan.runs) == 1 * 1 * 2 * 2 * 3  # the two env names are one env
    assert {r.env for r in plan.runs} == {"cartpole"}
    ids = [r.run_id for r in plan.runs]
    assert len(set(ids)) == len(ids)
    assert "reinforce__cartpole__learning_rate=0.01+net_arch=8-8__seed2" in ids
    assert not any(tmp_path.iterdir()), "planning writes nothing"


@pytest.mark.parametrize("kwargs,complaint", [
    (dict(agents="reinforse"), "unknown agent 'reinforse': did you mean 'reinforce'"),
    (dict(envs="cartpol"), "unknown env 'cartpol'"),
    (dict(agents="hardcoded"), "does not learn"),
    (dict(grid={"learning_rate": ["fast"]}), "learning_rate='fast' is not a valid float"),
    (dict(grid={"nope": ["1"]}), "unknown hyperparameter 'nope'"),
    (dict(grid={"learning_rate": ["-1"]}), "out of range"),
    (dict(grid={"lr": ["0.1"]}), "did you mean 'learning_rate'?"),
    (dict(train_steps=0), "--train-steps must be a positive number"),
    (dict(eval_episodes=0), "--eval-episodes must be a positive number"),
    (dict(agents=""), "--agents needs a comma-separated list"),
])
def test_plan_refuses_bad_input_before_anything_runs(tmp_path, kwargs, complaint):
    args = dict(agents="reinforce", envs="cartpole", seeds="0", out=tmp_path / "out") | kwargs
    with pytest.raises(ZooError, match=complaint.replace("(", r"\(")):
        plan_sweep(**args)
    assert not (tmp_path / "out").exists()


def test_cli_bad_input_is_one_line_and_exit_code_2(tmp_path):
    runner = CliRunner()
    for args, complaint in ([["--seeds", "9-0"], "runs backwards"], [["--backend", "dask"], "unknown backend 'dask'"],
                            [["--address", "auto"], "are for --backend ray"], [["--workers", "0"], "--workers must"]):
        result = runner.invoke(app, ["sweep", "--agents", "reinforce", "--envs", "cartpole",
                                     "--out", str(tmp_path / "out"), *args])
        assert result.exit_code == 2, result.output
        assert complaint in result.output and "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if line.startswith("error:")]) == 1
    assert not (tmp_path / "out").exists()


def test_summary_is_iqm_with_a_confidence_interval_mean_and_std_over_seeds_and_lists_failures():
    def run(seed, mean=None, error=None):
        return {"run_id": f"a__e__default__seed{seed}", "agent": "a", "env": "e", "label": "default",
                "seed": seed, "status": "failed" if error else "ok", "error": error,
                "eval": None if error else {"mean": mean}}

    results = [run(0, 10.0), run(1, 20.0), run(2, error="RuntimeError: boom")]
    [row] = summarize(results)
    assert (row["mean"], row["std"], row["seeds"], row["failed"]) == (15.0, 5.0, [0, 1], [2])
    assert (row["iqm"], row["iqm_low"], row["iqm_high"]) == (15.0, 10.0, 20.0)
    text = summary_markdown(results, [row])
    assert "| a | e | default | 2 | 15.00 [10.00, 20.00] | 15.00 ± 5.00 | 10.00 | 20.00 | seeds 2 |" in text
    assert "2 of 3 runs succeeded, 1 failed" in text and "`a__e__default__seed2`: RuntimeError: boom" in text
    assert all(math.isnan(v) for v in mean_std([]))  # no seeds, no statistics


def test_loopback_heads_are_recognised_so_ray_can_be_kept_on_loopback(tmp_path, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    assert ray_over_loopback(None)  # the local instance a sweep starts
    assert ray_over_loopback("127.0.0.1:6379") and ray_over_loopback("ray://localhost:10001")
    assert not ray_over_loopback("10.0.0.5:6379")
    assert not ray_over_loopback("auto")  # no running head recorded
    (tmp_path / "ray").mkdir()
    (tmp_path / "ray" / "ray_current_cluster").write_text("127.0.0.1:6379")
    assert ray_over_loopback("auto")
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")  # Ray lets this override any address
    assert not ray_over_loopback("auto") and not ray_over_loopback("127.0.0.1:6379")


# -- the local backend ----------------------------------------------------------------------------
def test_local_sweep_writes_run_folders_results_and_tables(local_sweep):
    out = local_sweep.out
    assert local_sweep.skipped == 0 and len(local_sweep.results) == 4
    for name in ("results.csv", "results.json", "summary.md", "summary.png"):
        assert (out / name).is_file()
    ok = out / "runs" / "reinforce__cartpole__default__seed1"
    for name in ("config.json", "command.txt", "returns.csv", "curve.png", RESULT_FILE):
        assert (ok / name).is_file(), name
    assert (ok / "command.txt").read_text().startswith("zoo train reinforce cartpole --seed 1 --steps 600")
    result = json.loads((ok / RESULT_FILE).read_text())
    # The executed-step budget: within n_envs - 1 (REINFORCE's 64 copies on CartPole) of 600, never past.
    assert result["status"] == "ok" and 600 - 64 < result["train"]["env_steps"] <= 600
    assert result["eval"]["episodes"] == 2 and len(result["eval"]["returns"]) == 2
    assert result["eval"]["seed"] == 10_001  # the zoo's evaluation seed for seed 1, never a training seed
    assert json.loads((ok / "config.json").read_text())["seed"] == 1
    # Seeds differ, so do their runs.
    seed0 = json.loads((out / "runs" / "reinforce__cartpole__default__seed0" / RESULT_FILE).read_text())
    assert seed0["eval"]["returns"] != result["eval"]["returns"] or seed0["train"] != result["train"]


def test_a_failing_run_is_recorded_in_one_line_and_the_sweep_goes_on(local_sweep):
    by_id = {r["run_id"]: r for r in local_sweep.results}
    failed = by_id["flaky__cartpole__default__seed1"]
    assert failed["status"] == "failed"
    assert failed["error"] == "RuntimeError: flaky agent fails on odd seeds"
    assert by_id["flaky__cartpole__default__seed0"]["status"] == "ok"  # the same plugin on a worker
    assert [r["run_id"] for r in local_sweep.failed] == ["flaky__cartpole__default__seed1"]
    summary = (local_sweep.out / "summary.md").read_text()
    assert "3 of 4 runs succeeded, 1 failed" in summary
    assert "`flaky__cartpole__default__seed1`: RuntimeError: flaky agent fails on odd seeds" in summary
    row = table(local_sweep.out)["flaky__cartpole__default__seed1"]
    assert row["status"] == "failed" and row["eval_mean"] == ""


def test_restart_skips_finished_runs_and_redoes_missing_and_failed_ones(local_sweep, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(local_sweep.out, out)
    kept = out / "runs" / "reinforce__cartpole__default__seed0" / RESULT_FILE
    lost = out / "runs" / "reinforce__cartpole__default__seed1" / RESULT_FILE
    kept_stamp = kept.stat().st_mtime_ns
    lost.unlink()  # as if its worker died: the folder is there, the result is not
    result = CliRunner().invoke(app, ["sweep", "--agents", SWEEP["agents"], "--envs", SWEEP["envs"],
                                      "--seeds", SWEEP["seeds"], "--train-steps", str(SWEEP["train_steps"]),
                                      "--eval-episodes", str(SWEEP["eval_episodes"]), "--out", str(out),
                                      "--workers", "2"])
    assert result.exit_code == 1, result.output  # finished, but one run failed (again)
    assert "2 runs already had results and were skipped" in result.output
    assert "reinforce__cartpole__default__seed1: mean return" in result.output
    assert (out / "summary.md").read_text(encoding="utf-8") in result.stdout  # piped: as written, never cut
    assert kept.stat().st_mtime_ns == kept_stamp
    assert lost.is_file()
    assert_same_results(local_sweep.out, out)  # redone from scratch, the same result


def test_a_worker_that_dies_fails_only_its_own_run(plugins_installed, tmp_path):
    # Two workers: the crash takes the run beside it down too, which must still succeed.
    outcome = run_sweep(plan_sweep("crashy", "cartpole", "0-1", train_steps=300, eval_episodes=1, out=tmp_path),
                        backend="local", workers=2)
    by_seed = {r["seed"]: r for r in outcome.results}
    assert by_seed[0]["status"] == "ok", by_seed[0]
    assert by_seed[1]["status"] == "failed" and by_seed[1]["error"].startswith("its worker process died twice")
    stored = tmp_path / "runs" / "crashy__cartpole__default__seed1" / RESULT_FILE
    assert json.loads(stored.read_text())["status"] == "failed"


def test_a_changed_sweep_refuses_an_out_folder_holding_other_results(local_sweep):
    with pytest.raises(ZooError, match="different sweep.*train_steps 600 there, 700 now"):
        plan_sweep(**(SWEEP | {"train_steps": 700}), out=local_sweep.out)


# -- the Ray backend, against the same sweep ------------------------------------------------------
def test_ray_backend_gives_the_same_results_run_for_run(ray_local, local_sweep, tmp_path):
    outcome = run_sweep(plan_sweep(out=tmp_path, **SWEEP), backend="ray")
    assert ray_local.is_initialized(), "a Ray the caller started is left running"
    assert len(outcome.results) == 4 and len(outcome.failed) == 1
    assert_same_results(local_sweep.out, tmp_path)
    assert (tmp_path / "summary.md").read_text() == (local_sweep.out / "summary.md").read_text()


@pytest.mark.skipif(not all(p.is_dir() for p in EXAMPLE_PLUGINS), reason="the example plugins in plugins/ are absent")
def test_example_plugins_reach_the_workers_of_both_backends(ray_local, tmp_path):
    """zoo-cem's agent on zoo-catch's env, installed with pip outside the venv and put on
    PYTHONPATH before the pool and Ray started: both backends' workers find them."""
    import zoo_catch

    assert Path(zoo_catch.__file__).parent.parent.name.startswith("site"), "the pip-installed copy is used"
    local = run_sweep(plan_sweep(out=tmp_path / "local", **PLUGIN_SWEEP), backend="local", workers=2)
    remote = run_sweep(plan_sweep(out=tmp_path / "ray", **PLUGIN_SWEEP), backend="ray")
    assert [r["status"] for r in local.results] == ["ok", "ok"], local.results
    assert {r["agent"] for r in remote.results} == {"cem", "reinforce"}
    assert_same_results(tmp_path / "local", tmp_path / "ray")


# -- Ctrl-C and SIGTERM (the execution layer's policy, through the real command) -------------------
def sweep_process(out: Path, steps: int) -> subprocess.Popen:
    args = [sys.executable, "-m", "zoo.cli", "sweep", "--agents", "reinforce", "--envs", "cartpole", "--seeds", "0-2",
            "--train-steps", str(steps), "--eval-episodes", "2", "--workers", "1", "--out", str(out)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})


def wait_for(path: Path, timeout: float = 120) -> None:
    import time

    deadline = time.time() + timeout
    while not path.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert path.exists(), path


def test_ctrl_c_lets_the_running_run_finish_and_a_rerun_does_the_rest(tmp_path):
    out = tmp_path / "sweep"
    proc = sweep_process(out, 20_000)
    wait_for(out / "runs" / "reinforce__cartpole__default__seed0" / "config.json")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert f"interrupted (Ctrl-C): 1 of 3 runs have a result; rerun with --out {out.resolve()} to finish" in stderr
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert [(r["seed"], r["status"]) for r in runs] == [(0, "ok")]
    assert not (out / "runs" / "reinforce__cartpole__default__seed1").exists()
    again = CliRunner().invoke(app, ["sweep", "--agents", "reinforce", "--envs", "cartpole", "--seeds", "0-2",
                                     "--train-steps", "20000", "--eval-episodes", "2", "--workers", "1",
                                     "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "1 runs already had results and were skipped" in again.output
    assert [r["status"] for r in json.loads((out / "results.json").read_text())["runs"]] == ["ok"] * 3


def test_sigterm_stops_the_running_run_and_records_it_as_interrupted(tmp_path):
    out = tmp_path / "sweep"
    proc = sweep_process(out, 5_000_000)
    wait_for(out / "runs" / "reinforce__cartpole__default__seed0" / "config.json")  # the run has started
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr and "interrupted (SIGTERM): 1 of 3 runs have a result" in stderr
    (run,) = json.loads((out / "results.json").read_text())["runs"]
    assert run["status"] == "failed" and "interrupted" in run["error"], run
    assert "1 failed" in (out / "summary.md").read_text()


# -- issue 23: two sweeps on one --out, and a run folder another process holds ---------------------
def test_two_sweeps_on_one_out_share_the_work_and_lose_no_run(tmp_path, marked_driver):
    # The second sweep once removed the first's run in progress; the first ended "1 of 3 runs
    # failed" (issue 23, item 10). Now each run is done once, by whichever sweep takes it first,
    # and each sweep waits for the runs the other holds.
    out = tmp_path / "sweep"
    args = ["sweep", "--agents", "reinforce", "--envs", "cartpole", "--seeds", "0-2", "--train-steps", "30000",
            "--eval-episodes", "2", "--workers", "1", "--out", str(out)]
    first = marked_driver(args, cwd=tmp_path)
    wait_for(out / "runs" / "reinforce__cartpole__default__seed0" / "config.json", timeout=180)
    second = marked_driver(args, cwd=tmp_path)
    assert first.finish() == 0, first.stderr()
    assert second.finish() == 0, second.stderr()
    for driver in (first, second):
        assert "3 of 3 runs succeeded" in driver.stdout(), driver.stdout()
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert [(r["seed"], r["status"]) for r in runs] == [(0, "ok"), (1, "ok"), (2, "ok")]
    for run in runs:
        folder = Path(run["run_dir"])
        assert json.loads((folder / RESULT_FILE).read_text()) == run
        assert Path(run["train"]["checkpoint"]).is_dir()
        assert (folder / "command.txt").read_text().count("zoo train") == 1  # trained once, start to end


def test_a_run_folder_another_process_holds_is_left_alone_and_waited_for(tmp_path):
    # A run without a result is redone from scratch, but not while another live process trains
    # into its folder: the sweep does the other runs, then waits for it.
    import threading

    from zoo.training import run_folder

    plan = plan_sweep("reinforce", "cartpole", "0-1", train_steps=300, eval_episodes=1, out=tmp_path / "sweep")
    held = Path(plan.runs[0].run_dir)
    held.mkdir(parents=True)
    (held / "returns.csv").write_text("someone's run\n")
    lock = run_folder.lock(held)
    seen = {}

    def release() -> None:  # once the other run is done, look at the held folder and let it go
        wait_for(Path(plan.runs[1].run_dir) / RESULT_FILE, timeout=180)
        seen["held"] = (held / "returns.csv").read_text()
        lock.close()

    releaser = threading.Thread(target=release)
    releaser.start()
    outcome = run_sweep(plan, workers=1)
    releaser.join()
    assert seen["held"] == "someone's run\n"
    assert [r["status"] for r in outcome.results] == ["ok", "ok"]
