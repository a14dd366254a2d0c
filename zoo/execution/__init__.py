"""Running independent jobs side by side, on a local process pool or on Ray: the one execution
layer under the tools (``zoo sweep`` and ``zoo tune`` both run on it), with one failure policy.

The zoo schedules nothing itself: jobs (plain data, a picklable function) go to an existing
engine, ``concurrent.futures``' process pool (spawned workers) or Ray tasks (one CPU each).
The caller hands the jobs over one at a time as workers come free (:meth:`Executor.run` asks its
``next_job``), so a search can propose each job from the results so far, and a stop request
never has queued jobs to take back.

The failure policy, the same on both backends:

* **A job that raises** is the job's own failure: it is reported with its error in one line
  (``on_lost``), and the other jobs go on. (The zoo's jobs catch their own errors and return a
  failed result, so this is for what escapes them.)
* **A job whose worker dies** (killed, out of memory, a crash in native code, a Ray node lost)
  is run again, up to ``retries`` times (default :data:`DEFAULT_RETRIES`); then it is reported
  lost, naming the cause. Ray reruns its tasks itself. A local worker that dies takes its whole
  pool down, and which job killed it is not known: the jobs that had started are rerun one at a
  time in a pool of their own (the others are handed out again, not counted), so only a job
  that kills its worker again and again is lost.
* **Ctrl-C** (SIGINT) at the driver asks it to stop: no job is started any more, the running
  ones finish and are reported. A second Ctrl-C, or SIGTERM, stops the running jobs too: local
  workers get SIGTERM (a training run stops after its current iteration with a checkpoint),
  Ray tasks are cancelled; each is reported by its job if it could still answer, else lost as
  interrupted. Any further signal kills the local workers outright. Workers run in a session
  of their own, so a Ctrl-C at the terminal reaches only the driver. :meth:`Executor.run`
  returns the signal that stopped it; the commands exit with 128 + its number (130, 143).
"""

from zoo.execution.driver import Executor, Stopped, open_executor
from zoo.execution.options import (
    BACKENDS,
    DEFAULT_RETRIES,
    MAX_WORKERS,
    Backend,
    check_backend,
    default_workers,
)
from zoo.execution.ray_backend import LOOPBACK, connect_ray, ray_over_loopback, shutdown_ray

__all__ = ["BACKENDS", "DEFAULT_RETRIES", "LOOPBACK", "MAX_WORKERS", "Backend", "Executor", "Stopped",
           "check_backend", "connect_ray", "default_workers", "open_executor", "ray_over_loopback", "shutdown_ray"]
