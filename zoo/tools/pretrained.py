"""The collection of trained agents that plugins ship with their package.

An agent plugin offers a checkpoint per env through ``Agent.pretrained_checkpoint(env)``;
:mod:`zoo.catalog` finds them (:func:`find`, :func:`collection`), this module builds them
reproducibly and publishes them to the Hub.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from zoo.agent_base import pretrained_name
from zoo.catalog import Pretrained, find_pretrained, pretrained_collection

__all__ = ["Pretrained", "build", "collection", "find", "push_collection", "repo_name"]


#: The Hub repo name for an agent on an env (``reinforce-CartPole-v1``): the shipped folder's name.
repo_name = pretrained_name
#: Finding the collection is the core's (:mod:`zoo.catalog`), so that loading a shipped policy needs no tool.
find = find_pretrained
collection = pretrained_collection


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def build(agent: str, env: str, out_root: str | Path, *, seed: int = 0, eval_episodes: int = 100,
          steps: int | None = None) -> Path:
    """Train ``agent`` on ``env`` with its default config and budget, evaluate it
    deterministically over ``eval_episodes`` episodes (seeded by the zoo's one rule,
    :func:`zoo.scoring.evaluation_seed`: ``seed + 10,000``), and save the checkpoint at
    ``out_root/<agent>-<env id>`` with the evaluation, training cost and provenance recorded."""
    from zoo.factory import load_agent, save_agent
    from zoo.scoring import evaluate, evaluation_seed
    from zoo.training.session import train

    eval_seed = evaluation_seed(seed)  # checks the seed before training, which can take hours
    with tempfile.TemporaryDirectory() as tmp:
        result = train(agent, env, seed=seed, steps=steps, out=Path(tmp) / "run",
                       argv=["zoo", "build-pretrained", agent, env, "--seed", str(seed)])
        trained = load_agent(result.checkpoint)
        score = evaluate(trained, env, episodes=eval_episodes, seed=eval_seed, deterministic=True)
        meta = trained.checkpoint_meta
        target = Path(out_root) / repo_name(trained.name, trained.env.gym_id)
        return save_agent(
            trained, target,
            trained=meta["trained"],
            evaluation={k: v for k, v in score.as_dict().items() if k not in ("returns", "lengths")},
            provenance={"commit": _git_commit(), "seed": seed,
                        "command": f"zoo build-pretrained {trained.name} {trained.env.name} --seed {seed}"},
        )


def push_collection(org: str, *, dry_run: bool = False, eval_episodes: int = 100, video: bool = True,
                    private: bool = False) -> list[tuple[str, Pretrained, Any]]:
    """Publish every shipped checkpoint to ``org``, one repo per agent × env, with the same card
    and layout as ``zoo push``. With ``dry_run`` nothing is sent: only the plan is returned.
    Returns (repo_id, pretrained, PushResult or None) per checkpoint."""
    from zoo.hub.push import push_run
    from zoo.hub.repo_ids import validate_repo_id

    plan = [(f"{org}/{p.repo_name}", p) for p in collection()]
    for repo_id, _ in plan:
        validate_repo_id(repo_id)
    if dry_run:
        return [(repo_id, p, None) for repo_id, p in plan]
    return [(repo_id, p, push_run(p.path, repo_id, eval_episodes=eval_episodes, video=video, private=private,
                                  commit_message=f"agent-zoo pretrained {p.agent} on {p.gym_id}"))
            for repo_id, p in plan]
