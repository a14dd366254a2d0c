"""``zoo eval`` and ``zoo record``: run a policy (hardcoded, trained, shipped or from the Hub)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from zoo.cli.app import AsJson, GymPackages, MaxSteps, Seed, SetOption, command, import_env_names, out, stage_progress
from zoo.exceptions import ZooError

HUB_PREFIX = "hub:"


def resolve_policy(agent: str | None, env: str | None, checkpoint: Path | None, *, from_hub: str | None = None,
                   revision: str | None = None, trust_remote_code: bool = False, best: bool = False,
                   overrides: dict[str, Any] | None = None) -> tuple[Any, str, str]:
    """The policy to run, the env to run it on, and a line saying where it came from.

    ``agent`` may be ``hub:ORG/NAME``, like ``from_hub``: a Hub model names its own agent and env
    (``agent`` and ``env``, when given, must match them). ``best`` picks a run's best evaluated
    checkpoint (``RUN/best``); ``overrides`` configure an agent that is built, not loaded (the
    hardcoded agent's ``variant``)."""
    from zoo.factory import agent_class, agent_entry, load_policy, make_agent

    if best:
        from zoo.training.periodic_eval import BEST_DIR

        if checkpoint is None:
            raise ZooError("--best picks the best evaluated checkpoint of a run: add --checkpoint RUN_DIR")
        if not (checkpoint / BEST_DIR).is_dir():
            raise ZooError(f"run folder {str(checkpoint)!r} has no {BEST_DIR}/ checkpoint: train it with "
                           "--eval-every STEPS to keep the best policy")
        checkpoint = checkpoint / BEST_DIR
    if overrides and (from_hub is not None or checkpoint is not None or (agent or "").startswith(HUB_PREFIX)):
        raise ZooError("--set configures an agent built from its config (e.g. --set variant=lean for hardcoded); "
                       "a trained checkpoint keeps its own")

    if agent is not None and agent.startswith(HUB_PREFIX):
        if from_hub is not None:
            raise ZooError("name the Hub repo once: hub:ORG/NAME or --from-hub ORG/NAME")
        from_hub, agent = agent[len(HUB_PREFIX):], None
    if from_hub is not None:
        if checkpoint is not None:
            raise ZooError("--checkpoint and --from-hub both name the policy to run: give one of them")
        from zoo.hub.formats import load_hub_policy

        found = load_hub_policy(from_hub, revision=revision, trust_remote_code=trust_remote_code, agent=agent, env=env)
        return found.policy, found.env, found.source
    if revision is not None:
        raise ZooError("--revision applies to a Hub repo: add --from-hub ORG/NAME")
    if agent is None or env is None:
        raise ZooError("name what to run: AGENT ENV (trained: add --checkpoint RUN_DIR), or --from-hub ORG/NAME")
    if checkpoint is not None:
        return load_policy(checkpoint, agent=agent, env=env), env, f"checkpoint {checkpoint}"
    if not agent_class(agent, env).learns:
        policy = make_agent(agent, env, overrides=overrides)
        variant = getattr(policy.config, "variant", None)
        return policy, env, f"{policy.name} policy" + (f" ({variant})" if variant not in (None, "default") else "")
    if overrides:
        raise ZooError(f"--set configures an agent built from its config (e.g. --set variant=lean for hardcoded); "
                       f"{agent_entry(agent).name!r} runs a trained checkpoint, which keeps its own")
    from zoo.tools.pretrained import find

    shipped = find(agent, env)
    if shipped is None:
        raise ZooError(f"agent {agent_entry(agent).name!r} has no pretrained checkpoint for {env!r}: pass "
                       f"--checkpoint RUN_DIR (from `zoo train {agent} {env}`)")
    ev = shipped.evaluation
    return (load_policy(shipped.path, agent=agent, env=env), env,
            f"the pretrained checkpoint shipped with agent-zoo ({shipped.path.name}, recorded "
            f"{ev.get('mean', float('nan')):.1f} ± {ev.get('std', float('nan')):.1f} "
            f"over {ev.get('episodes', '?')} episodes)")


@command("eval")
def eval_command(
    agent: Annotated[str | None, typer.Argument(help="agent name, or hub:ORG/NAME")] = None,
    env: Annotated[str | None, typer.Argument(help="env name or gymnasium id (a Hub model names its own)",
                                              callback=import_env_names)] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="checkpoint or run folder")] = None,
    best: Annotated[bool, typer.Option("--best", help="with --checkpoint RUN: the run's best evaluated policy "
                                       "(kept by zoo train --eval-every)")] = False,
    set_: SetOption = None,
    from_hub: Annotated[str | None, typer.Option("--from-hub", metavar="ORG/NAME",
                        help="pull a model from the Hugging Face Hub and evaluate it")] = None,
    revision: Annotated[str | None, typer.Option(help="branch, tag or commit of the Hub repo")] = None,
    trust_remote_code: Annotated[bool, typer.Option("--trust-remote-code",
                                 help="allow loading pickled models (SB3 zips, course model.pt): runs their "
                                 "code")] = False,
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
    from zoo.scoring import check_options, evaluate

    check_options(episodes, seed, max_steps)
    policy, env, source = resolve_policy(agent, env, checkpoint, from_hub=from_hub, revision=revision,
                                         trust_remote_code=trust_remote_code, best=best,
                                         overrides=parse_overrides(set_ or []))
    if not as_json:
        out.print(f"evaluating {source} on {env}", markup=False)
    result = evaluate(policy, env, episodes=episodes, seed=seed, deterministic=deterministic,
                      max_episode_steps=max_steps)
    if as_json:
        out.print_json(json.dumps({"source": source, **result.as_dict()}))
    else:
        out.print(result.summary(), markup=False)


@command()
def record(
    agent: Annotated[str, typer.Argument(help="agent name")],
    env: Annotated[str, typer.Argument(help="env name or gymnasium id", callback=import_env_names)],
    out_file: Annotated[Path, typer.Option("--out", help="video file, .mp4 or .gif")],
    checkpoint: Annotated[Path | None, typer.Option(help="checkpoint or run folder")] = None,
    best: Annotated[bool, typer.Option("--best", help="with --checkpoint RUN: its best evaluated policy")] = False,
    set_: SetOption = None,
    seed: Seed = 0,
    max_steps: MaxSteps = None,
    gym_packages: GymPackages = None,
) -> None:
    """Record one episode as a video (mp4 or gif)."""
    from zoo.config import parse_overrides
    from zoo.recording import record as record_video

    policy, env, source = resolve_policy(agent, env, checkpoint, best=best, overrides=parse_overrides(set_ or []))
    with stage_progress() as show:
        info = record_video(policy, env, out_file, seed=seed, max_episode_steps=max_steps,
                            progress=lambda done, total: show("recording", done, total))
    out.print(f"recorded {source}: return {info['return']:.1f} over {info['steps']} steps -> {info['path']}",
              markup=False)
