"""Training: the loop the zoo drives (:mod:`.session`), continuing a stopped run
(:mod:`.resume`), the run folder it writes (:mod:`.run_folder`), the training state saved in
checkpoints (:mod:`.state`) and stopping cleanly on a signal (:mod:`.signals`)."""

from zoo.training.resume import continue_run, resume
from zoo.training.session import Budget, Progress, RunPlan, Session, TrainResult, plan_run, start, train
from zoo.training.state import seeded_envs

__all__ = ["Budget", "Progress", "RunPlan", "Session", "TrainResult", "continue_run", "plan_run", "resume",
           "seeded_envs", "start", "train"]
