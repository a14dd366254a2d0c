"""A real multi-node Ray cluster on loopback: ``ray.cluster_utils.Cluster`` (Ray's own test
cluster: a head and a worker node, each its own raylet and processes, on 127.0.0.1).

A sweep runs across both nodes; the worker node is removed while its run is training; that
costs only the runs that were on it (recorded as failed, the others finish); the rerun of the
same sweep skips the finished runs and completes the lost ones.

The cluster lives in a subprocess (this file run as a script), so that neither its Ray
connection nor its environment (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, set before Ray is
imported, keeps every node on 127.0.0.1) touches the test session; it prints a JSON report.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

RUNS = 8  # one CPU per node: the runs take turns on both nodes
TRAIN_STEPS = 400_000


def warm_up(ray, nodes: list[str]) -> None:
    """Import the zoo and torch in a worker on every node first, so that both nodes take runs
    from the start (a cold worker takes seconds to import torch while the other node works)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=1)
    def imports() -> str:
        import torch  # noqa: F401

        import zoo.training  # noqa: F401

        return ray.get_runtime_context().get_node_id()

    done = ray.get([imports.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote()
                    for node in nodes])
    assert sorted(done) == sorted(nodes)


def scenario(out: Path) -> dict:
    for name, value in {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}.items():
        os.environ[name] = value
    import ray
    from ray.cluster_utils import Cluster

    from zoo.tools.sweep import plan_sweep, run_sweep

    started = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1",
                                                            "include_dashboard": False})
    worker = cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    report: dict = {"cluster_seconds": round(time.perf_counter() - started, 1)}
    try:
        ray.init(address=cluster.address, logging_level="ERROR")
        report["nodes"] = sorted({(n["NodeID"], n["NodeManagerAddress"]) for n in ray.nodes() if n["Alive"]})
        worker_id = worker.node_id
        warm_up(ray, [n["NodeID"] for n in ray.nodes() if n["Alive"]])
        report["warm_seconds"] = round(time.perf_counter() - started, 1)
        # Runs of a few seconds: a worker process outlives its raylet's kill briefly and can still hand
        # a nearly finished run's result to the driver, so a short run might not be lost at all.
        plan = plan_sweep("reinforce", "cartpole", f"0-{RUNS - 1}", train_steps=TRAIN_STEPS, eval_episodes=2,
                          out=out)
        from_worker = threading.Event()
        removed: list[float] = []

        def on_result(result: dict, done: int, total: int) -> None:
            if result.get("node") == worker_id:
                from_worker.set()

        def remove_worker_mid_run() -> None:
            # Once the worker node has finished a run, wait until both nodes are training (two run
            # folders without a result: one CPU each, so one of them is the worker's), then kill it.
            from_worker.wait(timeout=300)
            while not removed:
                running = [run for run in plan.runs
                           if Path(run.run_dir).is_dir() and not (Path(run.run_dir) / "result.json").exists()]
                if len(running) == 2:
                    cluster.remove_node(worker, allow_graceful=False)
                    removed.append(round(time.perf_counter() - started, 1))
                time.sleep(0.05)

        killer = threading.Thread(target=remove_worker_mid_run, daemon=True)
        killer.start()
        first = run_sweep(plan, backend="ray", address=cluster.address, on_result=on_result, retries=0)
        killer.join(timeout=5)
        report["removed_at"] = removed[0] if removed else None
        report["first"] = [{k: r.get(k) for k in ("run_id", "status", "node", "error")} for r in first.results]
        report["first_seconds"] = round(time.perf_counter() - started, 1)
        second = run_sweep(plan, backend="ray", address=cluster.address, retries=0)
        report["second"] = [{k: r.get(k) for k in ("run_id", "status", "node")} for r in second.results]
        report["second_skipped"] = second.skipped
        report["head"] = cluster.head_node.node_id
        report["worker"] = worker_id
    finally:
        ray.shutdown()
        cluster.shutdown()
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the ray extra")
def test_a_sweep_across_two_ray_nodes_survives_losing_one(tmp_path):
    proc = subprocess.run([sys.executable, __file__, str(tmp_path / "sweep")], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=1))  # -s shows the timings and who ran where
    head, worker = report["head"], report["worker"]
    assert len(report["nodes"]) == 2 and {address for _, address in report["nodes"]} == {"127.0.0.1"}
    first = {r["run_id"]: r for r in report["first"]}
    assert len(first) == RUNS and report["removed_at"] is not None
    assert {r["node"] for r in first.values() if r["status"] == "ok"} == {head, worker}  # both nodes worked
    lost = [r for r in first.values() if r["status"] != "ok"]
    # Only what was running on the removed node is lost: one run (one CPU there), never a run of the head.
    assert len(lost) == 1, report["first"]
    assert all(r["node"] is None and worker in r["error"] and "NodeDiedError" in r["error"] for r in lost)
    second = {r["run_id"]: r for r in report["second"]}
    assert all(r["status"] == "ok" for r in second.values()), report["second"]
    assert report["second_skipped"] == RUNS - len(lost)
    for run_id, r in first.items():  # finished runs were kept as they were; the lost ones ran on the head
        assert second[run_id]["node"] == (r["node"] if r["status"] == "ok" else head)


if __name__ == "__main__":
    print(json.dumps(scenario(Path(sys.argv[1]))))
