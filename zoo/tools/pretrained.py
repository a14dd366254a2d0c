"""The collection of trained agents that plugins ship with their package.

An agent plugin offers a checkpoint per env through ``Agent.pretrained_checkpoint(env)``;
this module lists them, builds them reproducibly and names their Hub repos.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo import checkpoint as ckpt
from zoo.agent_base import pretrained_name
from zoo.factory import env_entry, load_agent_class
from zoo.plugin_loader import loaded_plugins


@dataclass(frozen=True)
class Pretrained:
    agent: str
    env: str
    gym_id: str
    path: Path
    meta: dict[str, Any]

    @property
    def evaluation(self) -> dict[str, Any]:
        return self.meta.get("evaluation", {})

    @property
    def repo_name(self) -> str:
        return repo_name(self.agent, self.gym_id)


#: The Hub repo name for an agent on an env (``reinforce-CartPole-v1``): the shipped folder's name.
repo_name = pretrained_name


def find(agent: str, env: str) -> Pretrained | None:
    """The shipped checkpoint for ``agent`` on ``env``, if its plugin has one."""
    loaded = loaded_plugins()
    agent_e, env_e = loaded.agents.get(agent), env_entry(env)
    path = load_agent_class(agent_e).pretrained_checkpoint(env_e)
    if path is None:
        return None
    return Pretrained(agent_e.name, env_e.name, env_e.gym_id, path, ckpt.read_meta(path))


def collection() -> list[Pretrained]:
    """Every shipped checkpoint of every agent on every env."""
    loaded = loaded_plugins()
    found = []
    for agent_e in loaded.agents:
        try:
            cls = load_agent_class(agent_e)
        except Exception:  # an agent that cannot even import has nothing to offer here
            continue
        for env_e in loaded.envs:
            path = cls.pretrained_checkpoint(env_e)
            if path is not None:
                found.append(Pretrained(agent_e.name, env_e.name, env_e.gym_id, path, ckpt.read_meta(path)))
    return found


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


#: The shipped checkpoints are evaluated on seed ``EVAL_SEED_OFFSET + S`` when trained with seed S:
#: episodes training never saw.
EVAL_SEED_OFFSET = 10_000


def build(agent: str, env: str, out_root: str | Path, *, seed: int = 0, eval_episodes: int = 100,
          steps: int | None = None) -> Path:
    """Train ``agent`` on ``env`` with its default config and budget, evaluate it
    deterministically over ``eval_episodes`` episodes, and save the checkpoint at
    ``out_root/<agent>-<env id>`` with the evaluation, training cost and provenance recorded."""
    from zoo.factory import load_agent, save_agent
    from zoo.limits import check_seed
    from zoo.scoring import evaluate
    from zoo.training.session import train

    # Checked before training, which can take hours, rather than when the evaluation starts.
    check_seed(seed)
    check_seed(EVAL_SEED_OFFSET + seed, f"--seed + {EVAL_SEED_OFFSET:,} (the evaluation's seed)")
    with tempfile.TemporaryDirectory() as tmp:
        result = train(agent, env, seed=seed, steps=steps, out=Path(tmp) / "run",
                       argv=["zoo", "build-pretrained", agent, env, "--seed", str(seed)])
        trained = load_agent(result.checkpoint)
        score = evaluate(trained, env, episodes=eval_episodes, seed=EVAL_SEED_OFFSET + seed, deterministic=True)
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
