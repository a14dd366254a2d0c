"""Training: the loop the zoo drives (:mod:`.session`), continuing a stopped run
(:mod:`.resuming`), the run folder it writes (:mod:`.run_folder`), the training state saved in
checkpoints (:mod:`.state`) and stopping cleanly on a signal (:mod:`.signals`). From Python:
``zoo.train``, ``zoo.resume``, ``zoo.plan_run`` and ``zoo.start_run``."""

from zoo.deprecations import forward

__getattr__ = forward(__name__)  # train, resume, start, plan_run: now public in zoo
