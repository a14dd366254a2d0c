"""``zoo push`` and ``zoo pull``: sharing agents through the Hugging Face Hub (see :mod:`zoo.hub`).

``zoo eval --from-hub ORG/NAME`` (or ``zoo eval hub:ORG/NAME``) lives with ``eval`` in :mod:`zoo.cli`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from zoo.cli.app import GymPackages, command, out, print_warning, stage_progress


@command("push")
def push_command(
    run_dir: Annotated[Path, typer.Argument(help="run folder (its newest checkpoint) or checkpoint folder")],
    repo_id: Annotated[str, typer.Option("--repo-id", metavar="ORG/NAME", help="Hub repo to publish to")],
    best: Annotated[bool, typer.Option("--best", help="the run's best evaluated policy (kept by zoo train "
                                       "--eval-every)")] = False,
    private: Annotated[bool, typer.Option("--private", help="make the repo private")] = False,
    eval_episodes: Annotated[int, typer.Option("--eval-episodes", min=1,
                                               help="evaluation episodes for the score")] = 10,
    deterministic: Annotated[bool, typer.Option(
        "--deterministic/--stochastic", help="score with greedy actions, or with actions sampled from the policy "
        "(as the Deep RL course evaluates); the card says which")] = True,
    seed: Annotated[int, typer.Option("--seed", help="seed of the evaluation episodes")] = 0,
    video: Annotated[bool, typer.Option("--video/--no-video", help="record and publish replay.mp4")] = True,
    revision: Annotated[str | None, typer.Option(help="branch to push to (created from main if needed)")] = None,
    commit_message: Annotated[str | None, typer.Option("--commit-message", help="commit summary")] = None,
    gym_packages: GymPackages = None,
) -> None:
    """Evaluate a trained agent and publish it to the Hugging Face Hub in one commit."""
    from zoo.hub.card import score_text
    from zoo.hub.push import push_run
    from zoo.policy_sources import find_policy

    checkpoint = find_policy(str(run_dir), best=best).checkpoint  # str: hub:ORG/NAME is named as such
    with warnings.catch_warnings(record=True) as caught, stage_progress() as show:
        warnings.simplefilter("always")
        result = push_run(checkpoint, repo_id, private=private, eval_episodes=eval_episodes, eval_seed=seed,
                          deterministic=deterministic, video=video, revision=revision,
                          commit_message=commit_message, progress=show)
    for warning in caught:
        print_warning(warning.message)
    results = result.results
    how = "published score reused: same checkpoint" if result.reused_results else "evaluated"
    actions = "greedy" if results["deterministic"] else "sampled"
    out.print(f"{results['env_id']}: mean_reward {score_text(results)} over {results['n_evaluation_episodes']} "
              f"episodes, {actions} actions, seed {results.get('eval_seed', seed)} ({how})", highlight=False,
              soft_wrap=True)
    if result.changed:
        out.print(f"pushed {', '.join(result.files)} to {result.repo_id} ({result.revision}) in commit "
                  f"{result.commit.oid}", highlight=False, soft_wrap=True)
    else:
        out.print(f"{result.repo_id} ({result.revision}) is already up to date at {result.commit.oid}: no commit made",
                  highlight=False, soft_wrap=True)
    out.print(result.url, highlight=False, soft_wrap=True)


@command("pull")
def pull_command(
    repo_id: Annotated[str, typer.Argument(metavar="ORG/NAME", help="Hub repo")],
    revision: Annotated[str | None, typer.Option(help="branch, tag or commit")] = None,
) -> None:
    """Download a model from the Hugging Face Hub into its cache and print where it is."""
    from zoo.hub.pull import pull

    out.print(str(pull(repo_id, revision)), highlight=False, soft_wrap=True)
