"""What a push publishes besides the checkpoint: ``results.json``, ``hyperparameters.json`` and
the model card, whose metadata the Hub's model pages and the Deep RL course leaderboard read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from zoo import checkpoint as ckpt
from zoo.training.run_folder import CURVE_FILE
from zoo.versions import DISTRIBUTION, zoo_version

LIBRARY_NAME = "agent-zoo"
RESULTS_FILE = "results.json"
HYPERPARAMETERS_FILE = "hyperparameters.json"
CARD_FILE = "README.md"
VIDEO_FILE = "replay.mp4"


def evaluation_results(meta: dict[str, Any], result: Any, *, eval_seed: int, env_id: str) -> dict[str, Any]:
    """``results.json`` for an evaluation (:class:`zoo.EvalResult`) of a checkpoint; ``env_id`` is
    the env's :attr:`zoo.EnvEntry.hub_id`, the id the Deep RL course leaderboard filters on."""
    return {
        "env_id": env_id,
        "agent": meta["agent"],
        "mean_reward": result.mean,
        "std_reward": result.std,
        "n_evaluation_episodes": result.episodes,
        "deterministic": result.deterministic,
        "eval_seed": eval_seed,
        "eval_datetime": datetime.now(UTC).isoformat(timespec="seconds"),
        "zoo_version": zoo_version(),
        "weights_sha256": meta["weights_sha256"],
    }


def results_still_valid(results: dict[str, Any] | None, meta: dict[str, Any], *, episodes: int,
                        eval_seed: int, deterministic: bool, env_id: str) -> bool:
    """Whether published ``results`` describe this very checkpoint evaluated the way we would now.

    Evaluation is seeded, so the same weights, settings and zoo version give the same numbers:
    reusing them (with their ``eval_datetime``) is what makes re-pushing an unchanged run a no-op.
    """
    if not isinstance(results, dict):
        return False
    wanted = {"weights_sha256": meta["weights_sha256"], "n_evaluation_episodes": episodes,
              "eval_seed": eval_seed, "deterministic": deterministic, "zoo_version": zoo_version(), "env_id": env_id}
    return all(results.get(key) == value for key, value in wanted.items()) and \
        all(key in results for key in ("mean_reward", "std_reward", "eval_datetime"))


def score_text(results: dict[str, Any]) -> str:
    """The leaderboard's metric value: ``"M.MM +/- S.SS"``."""
    return f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"


CARD_TEMPLATE = """---
{{ card_data }}
---

# {{ agent }} playing {{ env_id }}

A **{{ agent }}** agent for **{{ env_id }}**, trained and published with agent-zoo (the
distribution `rl-agent-zoo`, imported as `zoo`; `agent-zoo` on PyPI is an unrelated project).

Mean reward over {{ episodes }} evaluation episodes (seed {{ eval_seed }}): **{{ score }}**, with
{{ deterministic_text if deterministic else stochastic_text }}.

## Use it

```bash
{{ install }}
zoo eval --from-hub {{ repo_id }}
```

```python
import zoo
from huggingface_hub import snapshot_download

agent = zoo.load_agent(snapshot_download("{{ repo_id }}"))
print(zoo.evaluate(agent, "{{ env_id }}", episodes=10).summary())
```

## Files

{% for name, what in files %}- `{{ name }}`: {{ what }}
{% endfor %}
## Hyperparameters

```json
{{ hyperparameters }}
```
"""

_FILE_DESCRIPTIONS = {
    ckpt.WEIGHTS_FILE: "the policy's weights (safetensors: no pickles)",
    ckpt.META_FILE: "the checkpoint's metadata: agent, env, config, versions, checksum",
    HYPERPARAMETERS_FILE: "the agent's hyperparameters",
    RESULTS_FILE: "the evaluation behind the score above",
    CURVE_FILE: "the learning curve of the training run",
    VIDEO_FILE: "one episode of the agent",
}


def card_tags(agent: str, env_id: str) -> list[str]:
    return [env_id, agent, "reinforcement-learning", "deep-reinforcement-learning", "custom-implementation",
            "deep-rl-class", LIBRARY_NAME]


def install_command() -> str:
    """How a reader installs this project: from its repository until it is published on PyPI
    under its own name (``pip install agent-zoo`` would install an unrelated project)."""
    url = repository_url()
    if url:
        return f'pip install "{DISTRIBUTION} @ git+{url}"'
    return f"pip install -e ./agent-zoo  # a checkout of agent-zoo's repository (distribution {DISTRIBUTION})"


def repository_url() -> str | None:
    """The ``Repository`` (or ``Source``) project URL of the installed zoo, if its metadata has one."""
    from importlib import metadata

    try:
        urls = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("repository", "source") and url.strip():
            return url.strip()
    return None


def build_card(repo_id: str, meta: dict[str, Any], results: dict[str, Any], files: list[str]) -> Any:
    """The model card (a ``huggingface_hub.ModelCard``) for a checkpoint and its ``results``;
    ``files`` are the repo's files, described in the card. The env id of the tags and the
    model-index is ``results["env_id"]`` (the env's Hub id). No I/O."""
    from huggingface_hub import ModelCard, ModelCardData, metadata_eval_result

    env_id, agent = results["env_id"], meta["agent"]
    index = metadata_eval_result(
        model_pretty_name=repo_id.split("/")[-1],
        task_pretty_name="reinforcement-learning",
        task_id="reinforcement-learning",
        metrics_pretty_name="mean_reward",
        metrics_id="mean_reward",
        metrics_value=score_text(results),
        dataset_pretty_name=env_id,
        dataset_id=env_id,
    )
    data = ModelCardData(library_name=LIBRARY_NAME, tags=card_tags(agent, env_id), **index)
    return ModelCard.from_template(
        data, template_str=CARD_TEMPLATE, repo_id=repo_id, agent=agent, env_id=env_id,
        episodes=results["n_evaluation_episodes"], deterministic=results["deterministic"],
        deterministic_text="deterministic actions (the policy's greedy action)",
        stochastic_text="stochastic actions (sampled from the policy, as the Deep RL course evaluates)",
        eval_seed=results.get("eval_seed", "?"), score=score_text(results),
        files=[(name, _FILE_DESCRIPTIONS.get(name, "")) for name in sorted(files) if name != CARD_FILE],
        hyperparameters=json.dumps(meta["config"], indent=2, sort_keys=True), install=install_command(),
    )


def hyperparameters(meta: dict[str, Any], env_id: str) -> dict[str, Any]:
    """``hyperparameters.json``: the agent, the env id (its Hub id) and the resolved config."""
    return {"agent": meta["agent"], "env_id": env_id, **meta["config"]}


