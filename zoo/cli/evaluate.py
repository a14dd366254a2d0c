"""``zoo eval`` and ``zoo record``: run a policy (hardcoded, trained, shipped or from the Hub)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from zoo.cli.app import AsJson, GymPackages, MaxSteps, Seed, SetOption, command, import_env_names, out, stage_progress
from zoo.exceptions import ZooError

_CHECKPOINT_HELP = ("checkpoint or run folder; or an SB3 zip, an rl-baselines3-zoo log folder (pickles: with "
                    "--trust-remote-code)")
TrustRemoteCode = Annotated[bool, typer.Option("--trust-remote-code",
                            help="allow loading pickled models (SB3 zips, rl-baselines3-zoo runs, course model.pt): "
                            "runs their code")]


def policy_target(agent: str | None, checkpoint: Path | None,
                  from_hub: str | None) -> tuple[str | Path | None, str | None]:
    """What the command line names as the policy to run, for :func:`zoo.policy_sources.find_policy`:
    the target (``hub:ORG/NAME`` from ``AGENT`` or ``--from-hub``, or ``--checkpoint``) and the agent."""
    from zoo.policy_sources import HUB_PREFIX, hub_target

    if agent is not None and agent.startswith(HUB_PREFIX):
        if from_hub is not None:
            raise ZooError("name the Hub repo once: hub:ORG/NAME or --from-hub ORG/NAME")
        from_hub, agent = agent[len(HUB_PREFIX):], None
    if from_hub is None:
        return checkpoint, agent
    if checkpoint is not None:
        raise ZooError("--checkpoint and --from-hub both name the policy to run: give one of them")
    return hub_target(from_hub), agent


@command("eval", output_only=True)
def eval_command(
    agent: Annotated[str | None, typer.Argument(help="agent name, or hub:ORG/NAME")] = None,
    env: Annotated[str | None, typer.Argument(help="env name or gymnasium id (a Hub model names its own)",
                                              callback=import_env_names)] = None,
    checkpoint: Annotated[Path | None, typer.Option(help=_CHECKPOINT_HELP)] = None,
    best: Annotated[bool, typer.Option("--best", help="with --checkpoint RUN: the run's best evaluated policy "
                                       "(kept by zoo train --eval-every)")] = False,
    set_: SetOption = None,
    from_hub: Annotated[str | None, typer.Option("--from-hub", metavar="ORG/NAME",
                        help="pull a model from the Hugging Face Hub and evaluate it")] = None,
    revision: Annotated[str | None, typer.Option(help="branch, tag or commit of the Hub repo")] = None,
    trust_remote_code: TrustRemoteCode = False,
    episodes: Annotated[int, typer.Option(min=1, help="evaluation episodes")] = 10,
    seed: Seed = 0,
    deterministic: Annotated[bool, typer.Option("--deterministic/--stochastic",
                             help="greedy actions, or sample from the policy")] = True,
    as_json: AsJson = False,
    max_steps: MaxSteps = None,
    gym_packages: GymPackages = None,
) -> None:
    """Evaluate an agent with stable-baselines3's evaluate_policy: mean ± std, min, max, lengths."""
    from zoo.config import parse_overrides
    from zoo.policy_sources import resolve_policy
    from zoo.scoring import check_options, evaluate

    check_options(episodes, seed, max_steps)
    target, agent = policy_target(agent, checkpoint, from_hub)
    loaded = resolve_policy(target, agent=agent, env=env, best=best, revision=revision,
                            trust_remote_code=trust_remote_code, overrides=parse_overrides(set_ or []))
    if not as_json:
        out.print(f"evaluating {loaded.description} on {loaded.env}", markup=False)
    result = evaluate(loaded.policy, loaded.env_entry, episodes=episodes, seed=seed, deterministic=deterministic,
                      max_episode_steps=max_steps)
    if as_json:
        out.print_json(json.dumps({"source": loaded.description, **result.as_dict()}))
    else:
        out.print(result.summary(), markup=False)


@command()
def record(
    out_file: Annotated[Path, typer.Option("--out", help="video file, .mp4 or .gif")],
    agent: Annotated[str | None, typer.Argument(help="agent name, or hub:ORG/NAME")] = None,
    env: Annotated[str | None, typer.Argument(help="env name or gymnasium id (a trained model names its own)",
                                              callback=import_env_names)] = None,
    checkpoint: Annotated[Path | None, typer.Option(help=_CHECKPOINT_HELP)] = None,
    best: Annotated[bool, typer.Option("--best", help="with --checkpoint RUN: its best evaluated policy")] = False,
    set_: SetOption = None,
    from_hub: Annotated[str | None, typer.Option("--from-hub", metavar="ORG/NAME",
                        help="pull a model from the Hugging Face Hub and record it")] = None,
    revision: Annotated[str | None, typer.Option(help="branch, tag or commit of the Hub repo")] = None,
    trust_remote_code: TrustRemoteCode = False,
    seed: Seed = 0,
    deterministic: Annotated[bool, typer.Option("--deterministic/--stochastic",
                             help="greedy actions, or sample from the policy")] = True,
    max_steps: MaxSteps = None,
    gym_packages: GymPackages = None,
) -> None:
    """Record one episode as a video (mp4 or gif)."""
    from zoo.config import parse_overrides
    from zoo.policy_sources import resolve_policy
    from zoo.recording import record as record_video

    target, agent = policy_target(agent, checkpoint, from_hub)
    loaded = resolve_policy(target, agent=agent, env=env, best=best, revision=revision,
                            trust_remote_code=trust_remote_code, overrides=parse_overrides(set_ or []))
    with stage_progress() as show:
        info = record_video(loaded.policy, loaded.env_entry, out_file, seed=seed, deterministic=deterministic,
                            max_episode_steps=max_steps, progress=lambda done, total: show("recording", done, total))
    out.print(f"recorded {loaded.description}: return {info['return']:.1f} over {info['steps']} steps -> "
              f"{info['path']}", markup=False)
