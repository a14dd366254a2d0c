"""Sharing agents through the Hugging Face Hub.

* :func:`push_run` evaluates a checkpoint and publishes it in one commit: the checkpoint itself
  (``model.safetensors`` + ``zoo.json``), ``hyperparameters.json``, ``results.json``, the run's
  ``curve.png``, an optional ``replay.mp4`` and a ``README.md`` whose metadata the Hub's model
  pages and the Deep RL course leaderboard read. :func:`build_card` makes that card.
* :func:`pull` downloads a repo into the standard Hugging Face cache.
* :func:`load_hub_policy` turns a repo into a policy to evaluate, whatever its layout: an
  agent-zoo checkpoint, a stable-baselines3 model in the ``huggingface_sb3`` layout
  (``{algo}-{env}.zip``) or a Deep RL course REINFORCE model (``model.pt``). The last two hold
  pickles and load only when the caller trusts them (:func:`zoo.trust.require_trust`).

The token comes from wherever huggingface_hub finds it (``HF_TOKEN``, ``hf auth login``); the
zoo never reads, prints or writes it. Every Hub failure becomes a one-line :class:`ZooError`
naming the repo and what to do.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import re
import shutil
import tempfile
import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from zoo import checkpoint as ckpt
from zoo import runs
from zoo.errors import ZooError
from zoo.hub_ids import validate_repo_id
from zoo.trust import require_trust

LIBRARY_NAME = "agent-zoo"
RESULTS_FILE = "results.json"
HYPERPARAMETERS_FILE = "hyperparameters.json"
CARD_FILE = "README.md"
VIDEO_FILE = "replay.mp4"
CURVE_FILE = runs.CURVE_FILE
#: The agent that a Deep RL course REINFORCE model (``model.pt``) is loaded into.
COURSE_AGENT = "reinforce"
COURSE_MODEL_FILE = "model.pt"
#: stable-baselines3 algorithms whose zips ``{algo}-{env}.zip`` the zoo can load.
SB3_ALGORITHMS = ("a2c", "ddpg", "dqn", "ppo", "sac", "td3")
SB3_VEC_NORMALIZE_FILE = "vec_normalize.pkl"
_SB3_ZIP = re.compile(rf"^({'|'.join(SB3_ALGORITHMS)})-(.+)\.zip$")


class HubPushWarning(UserWarning):
    """Something optional (the replay video) could not be published; the push went on."""


# -- errors --------------------------------------------------------------------------------------

def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _network_errors() -> tuple[type[BaseException], ...]:
    # huggingface_hub's HTTP client raises these for a refused connection or a timeout.
    errors: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        with contextlib.suppress(ImportError):
            errors.append(__import__(name).TransportError)
    return tuple(errors)


def _revision_text(revision: str | None) -> str:
    return f" at revision {revision!r}" if revision else ""


def _login_hint() -> str:
    return "set HF_TOKEN or run `hf auth login`"


@contextlib.contextmanager
def hub_errors(repo_id: str, revision: str | None = None, filename: str | None = None) -> Iterator[None]:
    """Turn huggingface_hub's exceptions into one-line ZooErrors naming ``repo_id``."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"Hub repo {repo_id!r}{_revision_text(revision)}"
    try:
        yield
    except RevisionNotFoundError:
        raise ZooError(f"Hub repo {repo_id!r} has no revision {revision!r}: pass an existing branch, tag or "
                       "commit with --revision") from None
    except RepositoryNotFoundError:
        raise ZooError(f"Hub repo {repo_id!r} was not found at {_endpoint()}: check the name, or if it is "
                       f"private, {_login_hint()} with a token that can read it") from None
    except LocalEntryNotFoundError as exc:
        if constants.HF_HUB_OFFLINE or isinstance(exc.__cause__, OfflineModeIsEnabled):
            raise ZooError(f"{where} is not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and "
                           f"HF_HUB_OFFLINE is set: run `zoo pull {repo_id}` while online first") from None
        if isinstance(exc.__cause__, HfHubHTTPError) and exc.__cause__.response is not None:
            raise _http_error(exc.__cause__, repo_id, where) from None
        missing = f"has no file {filename!r}" if filename else "could not be downloaded"
        if isinstance(exc.__cause__, _network_errors()):
            raise ZooError(f"cannot reach the Hub at {_endpoint()} to fetch {repo_id!r}: check your network "
                           "connection and HF_ENDPOINT, or use a model already in the cache") from None
        raise ZooError(f"{where} {missing}: {str(exc).splitlines()[-1]}") from None
    except EntryNotFoundError:
        raise ZooError(f"{where} has no file {filename!r}: is it the right repo?") from None
    except OfflineModeIsEnabled:
        raise ZooError(f"HF_HUB_OFFLINE is set, so {repo_id!r} cannot be reached: unset it to use the Hub") from None
    except HfHubHTTPError as exc:
        raise _http_error(exc, repo_id, where) from None
    except _network_errors():
        raise ZooError(f"cannot reach the Hub at {_endpoint()} for {repo_id!r}: check your network connection "
                       "and HF_ENDPOINT") from None


def _http_error(exc: Any, repo_id: str, where: str) -> ZooError:
    status = exc.response.status_code if exc.response is not None else None
    if status == 401:
        return ZooError(f"the Hub at {_endpoint()} rejected your token for {repo_id!r} (401 unauthorised): "
                        f"{_login_hint()} with a valid token")
    if status == 403:
        return ZooError(f"your token may not write to {repo_id!r} (403 forbidden): use a token with write "
                        "access to that namespace")
    message = (exc.server_message or str(exc)).strip().splitlines()
    return ZooError(f"{where}: the Hub answered {status}: {message[0] if message else 'no details'}")


# -- results and card ----------------------------------------------------------------------------

def evaluation_results(meta: dict[str, Any], result: Any, *, eval_seed: int) -> dict[str, Any]:
    """``results.json`` for an evaluation (:class:`zoo.evaluation.EvalResult`) of a checkpoint."""
    return {
        "env_id": meta["gym_id"],
        "agent": meta["agent"],
        "mean_reward": result.mean,
        "std_reward": result.std,
        "n_evaluation_episodes": result.episodes,
        "deterministic": result.deterministic,
        "eval_seed": eval_seed,
        "eval_datetime": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "zoo_version": ckpt.zoo_version(),
        "weights_sha256": meta["weights_sha256"],
    }


def results_still_valid(results: dict[str, Any] | None, meta: dict[str, Any], *, episodes: int,
                        eval_seed: int, deterministic: bool) -> bool:
    """Whether published ``results`` describe this very checkpoint evaluated the way we would now.

    Evaluation is seeded, so the same weights, settings and zoo version give the same numbers:
    reusing them (with their ``eval_datetime``) is what makes re-pushing an unchanged run a no-op.
    """
    if not isinstance(results, dict):
        return False
    wanted = {"weights_sha256": meta["weights_sha256"], "n_evaluation_episodes": episodes,
              "eval_seed": eval_seed, "deterministic": deterministic, "zoo_version": ckpt.zoo_version()}
    return all(results.get(key) == value for key, value in wanted.items()) and \
        all(key in results for key in ("mean_reward", "std_reward", "eval_datetime"))


def score_text(results: dict[str, Any]) -> str:
    """The leaderboard's metric value: ``"M.MM +/- S.SS"``."""
    return f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"


CARD_TEMPLATE = """---
{{ card_data }}
---

# {{ agent }} playing {{ env_id }}

A **{{ agent }}** agent for **{{ env_id }}**, trained and published with
[agent-zoo](https://pypi.org/project/agent-zoo/).

Mean reward over {{ episodes }} {{ "deterministic" if deterministic else "stochastic" }} evaluation
episodes (seed {{ eval_seed }}): **{{ score }}**.

## Use it

```bash
pip install agent-zoo
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


def build_card(repo_id: str, meta: dict[str, Any], results: dict[str, Any], files: list[str]) -> Any:
    """The model card (a ``huggingface_hub.ModelCard``) for a checkpoint and its ``results``;
    ``files`` are the repo's files, described in the card. No I/O."""
    from huggingface_hub import ModelCard, ModelCardData, metadata_eval_result

    env_id, agent = meta["gym_id"], meta["agent"]
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
        eval_seed=results.get("eval_seed", "?"), score=score_text(results),
        files=[(name, _FILE_DESCRIPTIONS.get(name, "")) for name in sorted(files) if name != CARD_FILE],
        hyperparameters=json.dumps(meta["config"], indent=2, sort_keys=True),
    )


def hyperparameters(meta: dict[str, Any]) -> dict[str, Any]:
    """``hyperparameters.json``: the agent, the env id and the resolved config."""
    return {"agent": meta["agent"], "env_id": meta["gym_id"], **meta["config"]}


# -- push ----------------------------------------------------------------------------------------

@dataclass
class PushResult:
    repo_id: str
    revision: str
    #: huggingface_hub's ``CommitInfo`` of the head after the push (the new commit, or the
    #: unchanged head when nothing had changed).
    commit: Any
    #: False when every file was already on the Hub as it is: no commit was made.
    changed: bool
    results: dict[str, Any]
    #: True when the published results already described this checkpoint (no re-evaluation).
    reused_results: bool
    files: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.commit.commit_url


def _run_dir_of(path: Path, checkpoint: Path) -> Path | None:
    """The run folder a checkpoint belongs to, if it is inside one."""
    for candidate in (path, checkpoint.parent.parent):
        if (candidate / ckpt.CHECKPOINTS_DIR).is_dir() and checkpoint.parent == candidate / ckpt.CHECKPOINTS_DIR:
            return candidate
    return None


def _remote_state(api: Any, repo_id: str, revision: str) -> tuple[str | None, set[str], dict | None]:
    """(head commit, files, published results.json) of ``revision``; a branch that does not
    exist yet is read from main, where it will start; a repo that does not exist is empty."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    with hub_errors(repo_id, revision):
        try:
            info = api.repo_info(repo_id, revision=revision)
        except RevisionNotFoundError:
            info = api.repo_info(repo_id)
        except RepositoryNotFoundError:
            return None, set(), None
        files = {s.rfilename for s in info.siblings or []}
        results = None
        if RESULTS_FILE in files:
            path = hf_hub_download(repo_id, RESULTS_FILE, revision=info.sha)
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                results = json.loads(Path(path).read_text())
    return info.sha, files, results


def push_run(
    run_or_checkpoint_dir: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    eval_episodes: int = 10,
    eval_seed: int = 0,
    deterministic: bool = True,
    video: bool = True,
    revision: str | None = None,
    commit_message: str | None = None,
) -> PushResult:
    """Evaluate the checkpoint at ``run_or_checkpoint_dir`` (the newest one of a run folder)
    and publish it to ``repo_id`` in one commit on ``revision`` (a branch, created from main if
    needed; default main). Re-pushing an unchanged checkpoint makes no commit."""
    from huggingface_hub import HfApi

    from zoo.factory import load_agent

    validate_repo_id(repo_id)
    if eval_episodes < 1:
        raise ZooError(f"--eval-episodes must be at least 1, got {eval_episodes}")
    branch = revision or "main"
    path = Path(run_or_checkpoint_dir)
    checkpoint = ckpt.find_checkpoint(path)
    meta = ckpt.read_meta(checkpoint)
    agent = load_agent(checkpoint)
    run_dir = _run_dir_of(path, checkpoint)

    api = HfApi()
    head, remote_files, published = _remote_state(api, repo_id, branch)
    reused = results_still_valid(published, meta, episodes=eval_episodes, eval_seed=eval_seed,
                                 deterministic=deterministic)
    if reused:
        results = published
    else:
        from zoo.evaluation import evaluate

        score = evaluate(agent, meta["env"], episodes=eval_episodes, seed=eval_seed, deterministic=deterministic)
        results = evaluation_results(meta, score, eval_seed=eval_seed)

    with tempfile.TemporaryDirectory(prefix="zoo-push-") as tmp:
        stage = Path(tmp)
        for name in (ckpt.WEIGHTS_FILE, ckpt.META_FILE):
            shutil.copyfile(checkpoint / name, stage / name)
        (stage / HYPERPARAMETERS_FILE).write_text(json.dumps(hyperparameters(meta), indent=2, sort_keys=True) + "\n")
        (stage / RESULTS_FILE).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        stale = []
        if run_dir is not None and (run_dir / CURVE_FILE).is_file():
            shutil.copyfile(run_dir / CURVE_FILE, stage / CURVE_FILE)
        elif not reused:
            stale.append(CURVE_FILE)
        # The replay published with these very results still shows this agent: keep it.
        keep_video = reused and VIDEO_FILE in remote_files
        if video and not keep_video:
            _record_replay(agent, meta["env"], stage / VIDEO_FILE, eval_seed)
        if not (stage / VIDEO_FILE).exists() and not keep_video:
            stale.append(VIDEO_FILE)  # an older agent's replay must not stay next to new results
        files = sorted(p.name for p in stage.iterdir()) + [CARD_FILE]
        card = build_card(repo_id, meta, results, files + ([VIDEO_FILE] if keep_video else []))
        card.save(stage / CARD_FILE)

        message = commit_message or (f"Push {meta['agent']} on {meta['gym_id']}: mean_reward {score_text(results)}")
        with hub_errors(repo_id, revision):
            created = api.create_repo(repo_id, private=private, exist_ok=True)
            if private and head is not None and not api.repo_info(repo_id).private:
                api.update_repo_settings(repo_id, private=True)
            if branch != "main":
                api.create_branch(repo_id, branch=branch, exist_ok=True)
            if head is None:
                head = api.repo_info(repo_id, revision=branch).sha
            commit = api.upload_folder(repo_id=created.repo_id, folder_path=stage, revision=branch,
                                       commit_message=message,
                                       delete_patterns=[name for name in stale if name in remote_files] or None)
    return PushResult(repo_id, branch, commit, commit.oid != head, results, reused, files)


def _record_replay(agent: Any, env: str, out: Path, seed: int) -> None:
    """Record one episode to ``out``; a failure is a warning, never the end of the push."""
    from zoo.recording import record

    try:
        record(agent, env, out, seed=seed)
    except Exception as exc:  # any failure of rendering or encoding: the video is optional
        out.unlink(missing_ok=True)
        reason = str(exc).strip().splitlines()
        warnings.warn(f"could not record {VIDEO_FILE} ({type(exc).__name__}: {reason[0] if reason else ''}); "
                      "pushing without it", HubPushWarning, stacklevel=3)


# -- pull ----------------------------------------------------------------------------------------

def pull(repo_id: str, revision: str | None = None) -> Path:
    """Download ``repo_id`` at ``revision`` into the Hugging Face cache (or find it there when
    offline) and return the snapshot folder."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import tqdm

    class NoFileCountBar(tqdm):
        # "Fetching N files" says nothing for a repo of a few small files, and would sit on
        # stderr above a one-line error. Large files still get their own download bars.
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "disable": True})

    validate_repo_id(repo_id)
    with hub_errors(repo_id, revision):
        return Path(snapshot_download(repo_id, revision=revision, tqdm_class=NoFileCountBar))


# -- loading what a repo holds -------------------------------------------------------------------

@dataclass
class HubPolicy:
    """A policy loaded from a Hub repo, the zoo env to run it on and where it came from."""

    policy: Any
    env: str
    source: str
    layout: str


def repo_layout(files: list[str]) -> str:
    """Which kind of model a repo with ``files`` holds: ``agent-zoo``, ``stable-baselines3``
    (``{algo}-{env}.zip``, the huggingface_sb3 layout) or ``deep-rl-course`` (``model.pt``)."""
    top = [name for name in files if "/" not in name]
    if ckpt.META_FILE in top:
        return "agent-zoo"
    if any(_SB3_ZIP.match(name) for name in top):
        return "stable-baselines3"
    if COURSE_MODEL_FILE in top:
        return "deep-rl-course"
    raise ZooError(f"no model the zoo can load: expected {ckpt.META_FILE} + {ckpt.WEIGHTS_FILE} (agent-zoo), "
                   f"{{algo}}-{{env}}.zip (stable-baselines3) or {COURSE_MODEL_FILE} (Deep RL course); "
                   f"found {', '.join(sorted(files)) or 'no files'}")


def load_hub_policy(repo_id: str, *, revision: str | None = None, trust_remote_code: bool = False,
                    agent: str | None = None, env: str | None = None) -> HubPolicy:
    """Pull ``repo_id`` and load its policy. ``agent`` and ``env``, when given, must match what
    the repo holds (``env`` also picks the env for a model that does not name a registered one)."""
    folder = pull(repo_id, revision)
    label = f"{repo_id}@{folder.name[:8]}"
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    try:
        layout = repo_layout(files)
        if layout == "agent-zoo":
            return _load_zoo(folder, label, agent, env)
        if layout == "stable-baselines3":
            return _load_sb3(folder, files, label, trust_remote_code, agent, env)
        return _load_course(folder, label, trust_remote_code, agent, env)
    except ZooError as exc:  # name the repo, once
        message = str(exc)
        raise ZooError(message if repo_id in message else f"Hub repo {repo_id!r}{_revision_text(revision)}: {message}") from None


def _load_zoo(folder: Path, label: str, agent: str | None, env: str | None) -> HubPolicy:
    from zoo.factory import env_entry, load_agent

    def about_the_repo(exc: ZooError) -> str:
        # The checkpoint's messages name the cache folder; it is the repo that they are about.
        return str(exc).replace(f"checkpoint {str(folder)!r}", "its checkpoint").replace(repr(str(folder)), "it")

    try:
        meta = ckpt.read_meta(folder)
    except ZooError as exc:
        raise ZooError(f"{about_the_repo(exc)} (ask its author to push it again, or pick another --revision)") from None
    _check_agent(agent, meta["agent"], "agent-zoo")
    if env is not None and env_entry(env) != env_entry(meta["env"]):
        raise ZooError(f"it holds a model for env {meta['env']!r}, not {env!r}")
    try:
        loaded = load_agent(folder)
    except ZooError as exc:
        raise ZooError(about_the_repo(exc)) from None
    return HubPolicy(loaded, loaded.env.name, f"{loaded.name} from {label}", "agent-zoo")


def _check_agent(agent: str | None, expected: str, layout: str) -> None:
    from zoo.factory import agent_entry

    if agent is not None and agent_entry(agent).name != expected:
        raise ZooError(f"it holds a model for agent {expected!r} ({layout}), not {agent!r}")


def _pick_env(candidates: list[str | None], what: str) -> str:
    """The first candidate that names a registered env."""
    from zoo.factory import env_entry

    tried = [c for c in candidates if c]
    for name in tried:
        with contextlib.suppress(ZooError):
            return env_entry(name).name
    raise ZooError(f"{what} is for env {', '.join(map(repr, tried)) or '(unnamed)'}, which no installed plugin "
                   "registers: install the plugin, or name the env: zoo eval hub:ORG/NAME ENV")


def _card_env(folder: Path) -> str | None:
    """The env id a card's model-index names as its dataset, if any."""
    from huggingface_hub import ModelCard

    card = folder / CARD_FILE
    if not card.is_file():
        return None
    with contextlib.suppress(Exception):  # a card we cannot parse just names no env
        results = ModelCard.load(card).data.eval_results or []
        return results[0].dataset_type if results else None
    return None


def _spaces_fit(what: str, model_obs: Any, model_act: Any, env: str) -> None:
    import gymnasium

    from zoo.factory import env_entry

    entry = env_entry(env)
    obs, act = entry.observation_space, entry.action_space
    same_obs = getattr(model_obs, "shape", None) == obs.shape
    same_act = type(model_act) is type(act) and (
        model_act.n == act.n if isinstance(act, gymnasium.spaces.Discrete) else model_act.shape == act.shape)
    if not (same_obs and same_act):
        raise ZooError(f"{what} acts on observations {model_obs} and actions {model_act}, but env {env!r} has "
                       f"{obs} and {act}")


class ObservationNormalized:
    """An SB3 model behind the observation normalisation (``vec_normalize.pkl``) it was trained with."""

    def __init__(self, model: Any, vec_normalize: Any) -> None:
        self.model, self.vec_normalize = model, vec_normalize

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return self.model.predict(self.vec_normalize.normalize_obs(observation), state=state,
                                  episode_start=episode_start, deterministic=deterministic)


def _load_sb3(folder: Path, files: list[str], label: str, trusted: bool, agent: str | None,
              env: str | None) -> HubPolicy:
    import stable_baselines3

    zip_name = next(name for name in files if "/" not in name and _SB3_ZIP.match(name))
    algo, env_in_name = _SB3_ZIP.match(zip_name).groups()
    _check_agent(agent, f"sb3-{algo}", "stable-baselines3")
    env_name = _pick_env([env, _card_env(folder), env_in_name], f"the SB3 model {zip_name}")
    require_trust(f"{zip_name} from {label} (a stable-baselines3 model)", trusted)
    algo_class = getattr(stable_baselines3, algo.upper())
    # Schedules are pickled lambdas that may not load across Python versions; acting needs none.
    no_schedules = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0,
                    "exploration_schedule": lambda _: 0.0}
    try:
        model = algo_class.load(folder / zip_name, device="cpu", custom_objects=no_schedules)
    except Exception as exc:  # a foreign file from another SB3 version: say which, in one line
        first = str(exc).strip().splitlines()
        raise ZooError(f"stable-baselines3 {stable_baselines3.__version__} cannot load {zip_name}: "
                       f"{type(exc).__name__}: {first[0] if first else ''}") from None
    _spaces_fit(f"the SB3 model {zip_name}", model.observation_space, model.action_space, env_name)
    policy: Any = model
    normalized = ""
    if SB3_VEC_NORMALIZE_FILE in files:
        from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

        from zoo.factory import make_env

        require_trust(f"{SB3_VEC_NORMALIZE_FILE} from {label}", trusted)
        vec_normalize = VecNormalize.load(str(folder / SB3_VEC_NORMALIZE_FILE), DummyVecEnv([lambda: make_env(env_name)]))
        vec_normalize.training, vec_normalize.norm_reward = False, False
        policy, normalized = ObservationNormalized(model, vec_normalize), f" with {SB3_VEC_NORMALIZE_FILE}"
    return HubPolicy(policy, env_name, f"SB3 {algo.upper()} model {zip_name}{normalized} from {label} "
                                       "(unpickled: trusted)", "stable-baselines3")


def _read_json(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise ZooError(f"{what} is missing")
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ZooError(f"{what} is not valid JSON ({getattr(exc, 'msg', exc)})") from None
    if not isinstance(data, dict):
        raise ZooError(f"{what} is not a JSON object")
    return data


def _unpickle_module(path: Path) -> Any:
    """A whole pickled torch module, as the course saves it (``torch.save(policy, "model.pt")``).

    Its class lived in the learner's notebook (``__main__.Policy``) and is gone; a bare
    ``nn.Module`` stands in for it, which keeps the submodules and weights, all we need."""
    import torch

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            try:
                return super().find_class(module, name)
            except (AttributeError, ModuleNotFoundError):
                if module == "__main__":
                    return type(name, (torch.nn.Module,), {})
                raise

    pickle_module = types.ModuleType("course_pickle")
    pickle_module.Unpickler = Unpickler
    pickle_module.load = lambda f, **kw: Unpickler(f, **kw).load()
    try:
        module = torch.load(path, map_location="cpu", weights_only=False, pickle_module=pickle_module)
    except Exception as exc:  # a foreign pickle: one line, whatever went wrong inside it
        first = str(exc).strip().splitlines()
        raise ZooError(f"cannot load {COURSE_MODEL_FILE}: {type(exc).__name__}: {first[0] if first else ''}") from None
    if not isinstance(module, torch.nn.Module):
        raise ZooError(f"{COURSE_MODEL_FILE} holds a {type(module).__name__}, not a torch module")
    return module


def _load_course(folder: Path, label: str, trusted: bool, agent: str | None, env: str | None) -> HubPolicy:
    """A Deep RL course REINFORCE model: its Linear layers (fc1, fc2, ...; ReLU between them, as
    in the course) become the body of the zoo's REINFORCE policy when the shapes match."""
    import gymnasium
    import torch

    from zoo.factory import env_entry, make_agent

    params = _read_json(folder / HYPERPARAMETERS_FILE, f"{HYPERPARAMETERS_FILE} (next to {COURSE_MODEL_FILE})")
    _check_agent(agent, COURSE_AGENT, "Deep RL course")
    env_name = _pick_env([env, params.get("env_id")], f"the course model {COURSE_MODEL_FILE}")
    entry = env_entry(env_name)
    if not isinstance(entry.action_space, gymnasium.spaces.Discrete):
        raise ZooError(f"the course's REINFORCE policy is categorical, but env {env_name!r} has {entry.action_space}")
    require_trust(f"{COURSE_MODEL_FILE} from {label} (a whole torch module, saved the Deep RL course's way)", trusted)
    module = _unpickle_module(folder / COURSE_MODEL_FILE)
    layers = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    shape = " -> ".join(str(n) for n in [layers[0].in_features, *(l.out_features for l in layers)]) if layers else "none"
    policy = make_agent(COURSE_AGENT, env_name, overrides={
        "hidden": [l.out_features for l in layers[:-1]], "activation": "relu", "normalize_obs": False})
    state = policy.state_tensors()
    targets = [k for k in state if k.startswith("policy.") and k.endswith((".weight", ".bias"))]
    sources = [t for l in layers for t in (l.weight, l.bias) if t is not None]
    fits = len(targets) == len(sources) and all(state[k].shape == t.shape for k, t in zip(targets, sources))
    if not layers or not fits:
        raise ZooError(f"the course model's Linear layers ({shape}) do not fit the zoo's {COURSE_AGENT} policy for "
                       f"{entry.gym_id} ({entry.observation_space.shape[0]} observations -> {entry.action_space.n} "
                       "actions)")
    state.update({k: t.detach().clone().float() for k, t in zip(targets, sources)})
    policy.load_state_tensors(state)
    return HubPolicy(policy, env_name, f"Deep RL course {COURSE_AGENT} model ({shape}) from {label} "
                                       "(unpickled: trusted)", "deep-rl-course")
