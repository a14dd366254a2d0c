"""stable-baselines3 zips and rl-baselines3-zoo log folders, as policies the zoo runs.

Which algorithm a zip holds is read from its ``data`` member, the JSON that SB3 writes beside
its pickles (the module of the policy class, and the algorithm's own hyperparameters): nothing
is unpickled to find out. The model is then loaded with that algorithm's class, taken from a
fixed table (:data:`ALGORITHMS`, the names rl-baselines3-zoo uses), and only once the user
trusts the file (``--trust-remote-code``): a zip holds pickles, which run code when loaded.

Two Hub formats live here (the built-in ``stable-baselines3`` one, ``{algo}-{env}.zip``, is in
:mod:`zoo.agents.sb3_format`); like every format they also read the same layout from disk
(``zoo eval --checkpoint PATH``):

* ``rl-baselines3-zoo``: a log folder as ``python -m rl_zoo3.train`` writes it
  (``logs/ppo/CartPole-v1_1/``): ``ENV.zip`` (or ``best_model.zip``), ``ENV/config.yml``,
  ``ENV/args.yml`` and, for a normalised run, ``ENV/vecnormalize.pkl``;
* ``stable-baselines3-zip``: one zip of any name (``--checkpoint model.zip``), with the
  ``vecnormalize.pkl`` that ``zoo export`` writes beside it, if there is one.

rl-baselines3-zoo writes its YAML files with Python tags (``!!python/object/apply:collections.OrderedDict``);
they are read with PyYAML's safe loader taught that one tag, never with its unsafe one.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import zoo
from zoo import HubPolicy, HubRepo, ZooError
from zoo.agents.sb3 import ACTIVATIONS, VEC_NORMALIZE_FILE, normalizer_tensors, policy_state

#: The member of an SB3 zip that holds its attributes as JSON.
DATA_MEMBER = "data"
VERSION_MEMBER = "_stable_baselines3_version"
#: rl-baselines3-zoo's algorithm names, with the package and class that load each.
ALGORITHMS: dict[str, tuple[str, str]] = {
    "a2c": ("stable_baselines3", "A2C"), "ddpg": ("stable_baselines3", "DDPG"), "dqn": ("stable_baselines3", "DQN"),
    "ppo": ("stable_baselines3", "PPO"), "sac": ("stable_baselines3", "SAC"), "td3": ("stable_baselines3", "TD3"),
    "ars": ("sb3_contrib", "ARS"), "crossq": ("sb3_contrib", "CrossQ"), "qrdqn": ("sb3_contrib", "QRDQN"),
    "tqc": ("sb3_contrib", "TQC"), "trpo": ("sb3_contrib", "TRPO"), "ppo_lstm": ("sb3_contrib", "RecurrentPPO"),
}
#: The module of the policy class, by algorithm, where it names the algorithm by itself.
_POLICY_MODULES = {
    "stable_baselines3.dqn.policies": "dqn", "stable_baselines3.sac.policies": "sac",
    "sb3_contrib.ars.policies": "ars", "sb3_contrib.crossq.policies": "crossq", "sb3_contrib.qrdqn.policies": "qrdqn",
    "sb3_contrib.tqc.policies": "tqc", "sb3_contrib.common.recurrent.policies": "ppo_lstm",
}
BEST_MODEL = "best_model.zip"
CONFIG_YML, ARGS_YML = "config.yml", "args.yml"


# -- what a zip holds, from its JSON -------------------------------------------------------------
def read_zip_data(path: Path) -> dict[str, Any]:
    """The JSON ``data`` member of the SB3 zip at ``path``, parsed (never unpickled)."""
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(DATA_MEMBER)
    except KeyError:
        raise ZooError(f"{path.name} is a zip without SB3's {DATA_MEMBER!r} member: not a stable-baselines3 "
                       "model") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ZooError(f"{path.name} is not a stable-baselines3 zip: {zoo.one_line(exc)}") from None
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ZooError(f"{path.name}: its {DATA_MEMBER!r} member is not JSON: not a stable-baselines3 model") from None
    if not isinstance(data, dict):
        raise ZooError(f"{path.name}: its {DATA_MEMBER!r} member is not a JSON object")
    return data


def sb3_version_of(path: Path) -> str:
    """The stable-baselines3 version that saved the zip, as it says (``?`` if it does not)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read(VERSION_MEMBER).decode("ascii", "replace").strip()[:20] or "?"
    except (KeyError, zipfile.BadZipFile, OSError):
        return "?"


def algorithm_of(data: dict[str, Any]) -> str | None:
    """rl-baselines3-zoo's name of the algorithm whose ``data`` this is, or None if no rule fits.

    The policy class's module names most algorithms. PPO, A2C and TRPO share SB3's
    ``ActorCriticPolicy`` (and MaskablePPO's is its own): their hyperparameters tell them apart.
    DDPG is SB3's TD3 with ``policy_delay`` 1 and its target policy noise clipped to 0."""
    policy = data.get("policy_class")
    module = policy.get("__module__") if isinstance(policy, dict) else None
    if module in _POLICY_MODULES:
        return _POLICY_MODULES[module]
    if module == "stable_baselines3.td3.policies":
        return "ddpg" if data.get("policy_delay") == 1 and data.get("target_noise_clip") == 0 else "td3"
    if module in ("stable_baselines3.common.policies",):
        if "cg_max_steps" in data:
            return "trpo"
        if "clip_range" in data and "n_epochs" in data:
            return "ppo"
        if "n_steps" in data and "gae_lambda" in data:
            return "a2c"
    return None


def agent_name(algorithm: str) -> str:
    """The zoo agent that runs ``algorithm``: ``sb3-`` and rl-baselines3-zoo's name, ``_`` as ``-``."""
    return "sb3-" + algorithm.replace("_", "-")


def architecture_of(data: dict[str, Any]) -> dict[str, Any]:
    """The SB3 agents' config values that shape the networks, as far as the zip's JSON says
    (``policy_kwargs``' ``net_arch`` and ``activation_fn``), for a message that helps a run start
    from it."""
    kwargs = data.get("policy_kwargs")
    found: dict[str, Any] = {}
    if not isinstance(kwargs, dict):
        return found
    arch = kwargs.get("net_arch")
    if isinstance(arch, dict) and arch.get("pi") == arch.get("vf"):
        arch = arch.get("pi")
    if isinstance(arch, list) and all(isinstance(n, int) and not isinstance(n, bool) for n in arch):
        found["net_arch"] = arch
    activation = kwargs.get("activation_fn")
    for name, torch_name in ACTIVATIONS.items():
        if isinstance(activation, str) and activation.endswith(f".{torch_name}'>"):
            found["activation"] = name
    return found


def _space_from_json(item: Any) -> tuple[str, Any] | None:
    """``("Discrete", n)`` or ``("Box", shape)`` of a space as SB3's JSON describes it; None if unknown."""
    if not isinstance(item, dict):
        return None
    kind = str(item.get(":type:", ""))
    if kind.endswith(".Discrete'>"):
        try:
            return "Discrete", int(item.get("n"))
        except (TypeError, ValueError):
            return None
    shape = item.get("_shape")
    if isinstance(shape, list) and kind.endswith(".Box'>"):
        return "Box", tuple(shape)
    return None


def check_spaces_before_loading(data: dict[str, Any], env: str, what: str) -> None:
    """Refuse a zip whose spaces (as its JSON describes them) do not fit env ``env``, before
    anything is unpickled; spaces the JSON does not describe are checked after loading."""
    import gymnasium

    entry = zoo.env_entry(env)
    for key, space in (("observation_space", entry.observation_space), ("action_space", entry.action_space)):
        described = _space_from_json(data.get(key))
        if described is None:
            continue
        if isinstance(space, gymnasium.spaces.Discrete):
            fits = described == ("Discrete", int(space.n))
        elif isinstance(space, gymnasium.spaces.Box):
            fits = described == ("Box", tuple(space.shape))
        else:
            continue
        if not fits:
            shown = f"{described[0]}({described[1]})"
            raise ZooError(f"{what} has {key.replace('_', ' ')} {shown}, but env {env!r} has {space}")


# -- loading, once trusted ----------------------------------------------------------------------
def algorithm_class(algorithm: str) -> Any:
    """The class that loads ``algorithm``'s zips (from :data:`ALGORITHMS`; sb3-contrib's need it installed)."""
    package, name = ALGORITHMS[algorithm]
    try:
        return getattr(importlib.import_module(package), name)
    except ImportError:
        raise ZooError(f"a {name} model needs {package.replace('_', '-')}: pip install "
                       f"{package.replace('_', '-')}") from None


def load_model(path: Path, algorithm: str) -> Any:
    """The SB3 model in the zip at ``path`` (the caller has checked trust), on the CPU."""
    algo_class = algorithm_class(algorithm)
    # Schedules are pickled lambdas that may not load across Python versions; acting needs none.
    no_schedules = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0,
                    "exploration_schedule": lambda _: 0.0}
    try:
        return algo_class.load(path, device="cpu", custom_objects=no_schedules)
    except Exception as exc:  # a foreign file, maybe from another SB3 version: say which, in one line
        import stable_baselines3

        raise ZooError(f"stable-baselines3 {stable_baselines3.__version__} cannot load {path.name} (saved by "
                       f"{sb3_version_of(path)}): {zoo.one_line(exc)}") from None


def load_vec_normalize(path: Path, env: str) -> Any:
    """VecNormalize's statistics from ``path`` (the caller has checked trust), for acting: frozen,
    rewards as they are."""
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    try:
        vec_normalize = VecNormalize.load(str(path), DummyVecEnv([lambda: zoo.make_env(env)]))
    except Exception as exc:  # a foreign pickle
        raise ZooError(f"cannot load {path.name}: {zoo.one_line(exc)}") from None
    vec_normalize.training, vec_normalize.norm_reward = False, False
    return vec_normalize


class SB3Model:
    """An SB3 model loaded from a zip (behind the VecNormalize statistics it was trained with, if
    any), as the zoo runs it: SB3's ``predict`` on normalised observations; ``state_tensors`` in
    the names of the zoo's ``sb3-*`` agent (so ``zoo train --init`` starts from it); and
    ``export`` of the files it came from (``zoo export``)."""

    export_formats = {"sb3": ".zip", "vecnormalize": ".pkl"}

    def __init__(self, model: Any, algorithm: str, zip_path: Path, vec_normalize: Any = None,
                 vec_normalize_path: Path | None = None, architecture: dict[str, Any] | None = None) -> None:
        self.model, self.algorithm, self.zip_path = model, algorithm, zip_path
        self.vec_normalize, self.vec_normalize_path = vec_normalize, vec_normalize_path
        #: The config values that shape its networks, as far as its zip says (for messages).
        self.architecture = dict(architecture or {})
        if vec_normalize is not None:
            self.architecture.update(norm_obs=bool(vec_normalize.norm_obs))

    @property
    def agent(self) -> str:
        return agent_name(self.algorithm)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        if self.vec_normalize is not None:
            observation = self.vec_normalize.normalize_obs(observation)
        return self.model.predict(observation, state=state, episode_start=episode_start, deterministic=deterministic)

    def state_tensors(self) -> dict[str, Any]:
        tensors = {f"policy.{k}": v for k, v in policy_state(self.model.policy)[0].items()}
        if self.vec_normalize is not None:
            tensors.update(normalizer_tensors(self.vec_normalize))
        return tensors

    def export_extras(self, format: str) -> dict[str, str]:
        return {VEC_NORMALIZE_FILE: "vecnormalize"} if format == "sb3" and self.vec_normalize_path else {}

    def export(self, path: Path, format: str) -> None:
        """The files it was loaded from, byte for byte."""
        source = self.zip_path if format == "sb3" else self.vec_normalize_path
        if source is None:
            raise ZooError(f"this SB3 model has no {VEC_NORMALIZE_FILE} to export")
        shutil.copyfile(source, path)


def load_sb3_zip(repo: HubRepo, zip_name: str, env_candidates: Sequence[str | None], *,
                 vec_normalize_name: str | None = None, named_algorithm: str | None = None,
                 layout: str = "stable-baselines3") -> HubPolicy:
    """Load ``zip_name`` of ``repo`` (and its VecNormalize statistics ``vec_normalize_name``, if
    given) as an :class:`SB3Model` for the env the user named or the first of
    ``env_candidates`` that the zoo knows. Its algorithm is read from its JSON (and must be
    ``named_algorithm`` if its file name says one); both files load only if trusted."""
    path = repo.folder / zip_name
    what = f"the SB3 model {zip_name}"
    # The env first: a name read from the repo is refused before any of its files is opened.
    env_name = repo.pick_env(*env_candidates, what=what)
    data = read_zip_data(path)
    algorithm = algorithm_of(data)
    if algorithm is None:
        raise ZooError(f"{zip_name} holds a stable-baselines3 model of an algorithm the zoo does not know (its "
                       f"policy class is from {_policy_module(data)!r}); known: {', '.join(ALGORITHMS)}")
    if named_algorithm is not None and named_algorithm != algorithm:
        raise ZooError(f"{zip_name} is named for {named_algorithm.upper()}, but holds a {ALGORITHMS[algorithm][1]} "
                       "model (by its policy and hyperparameters)")
    repo.check_agent(agent_name(algorithm), layout)
    check_spaces_before_loading(data, env_name, what)
    repo.require_trust(zip_name, f"a stable-baselines3 {ALGORITHMS[algorithm][1]} model")
    model = load_model(path, algorithm)
    repo.check_spaces(what, model.observation_space, model.action_space, env_name)
    vec_normalize, normalized = None, ""
    if vec_normalize_name is not None:
        repo.require_trust(vec_normalize_name, "VecNormalize statistics")
        vec_normalize = load_vec_normalize(repo.folder / vec_normalize_name, env_name)
        normalized = f" with {vec_normalize_name}"
    policy = SB3Model(model, algorithm, path, vec_normalize,
                      repo.folder / vec_normalize_name if vec_normalize_name else None, architecture_of(data))
    return HubPolicy(policy, env_name, f"SB3 {ALGORITHMS[algorithm][1]} model {zip_name}{normalized} from "
                                       f"{repo.label} (unpickled: trusted)", agent=policy.agent)


def _policy_module(data: dict[str, Any]) -> str:
    policy = data.get("policy_class")
    module = policy.get("__module__") if isinstance(policy, dict) else None
    return str(module)[:100] if module else "an unknown module"


# -- rl-baselines3-zoo's YAML files --------------------------------------------------------------
def read_rl_zoo_yaml(path: Path) -> dict[str, Any]:
    """One of rl-baselines3-zoo's ``config.yml`` / ``args.yml``: a mapping, read with PyYAML's
    safe loader that also builds the ``OrderedDict`` rl-baselines3-zoo dumps (as a dict). Any
    other Python tag is refused."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def ordered_dict(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        pairs = loader.construct_sequence(node.value[0], deep=True) if node.value else []
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
            raise yaml.constructor.ConstructorError(None, None, "an OrderedDict of other than (key, value) pairs",
                                                    node.start_mark)
        return {key: value for key, value in pairs}

    Loader.add_constructor("tag:yaml.org,2002:python/object/apply:collections.OrderedDict", ordered_dict)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)  # noqa: S506 (a SafeLoader)
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise ZooError(f"{path.parent.name}/{path.name} cannot be read: {zoo.one_line(exc)}") from None
    if not isinstance(data, dict):
        raise ZooError(f"{path.parent.name}/{path.name} holds no mapping of settings")
    return data


#: Settings of an rl-baselines3-zoo run that change the env the model acts on; the zoo runs the
#: model on the env as it is, so a run that used any is refused rather than scored on another env.
_ENV_CHANGING = ("env_wrapper", "frame_stack", "vec_env_wrapper")


def _rl_zoo_layout(files: Sequence[str]) -> tuple[str, list[str]] | None:
    """The env folder and the model zips (final first, then the best) of an rl-baselines3-zoo log
    folder with ``files``; None if it is not one."""
    top_zips = [name for name in files if "/" not in name and name.endswith(".zip")]
    env_folders = sorted({name.split("/")[0] for name in files
                          if name.count("/") == 1 and name.endswith((f"/{CONFIG_YML}", f"/{ARGS_YML}"))})
    for env_folder in env_folders:
        models = [name for name in (f"{env_folder}.zip", BEST_MODEL) if name in top_zips]
        if models:
            return env_folder, models
        if len(top_zips) == 1:  # one zip named as the user chose, in the run's folder
            return env_folder, top_zips
    return None


def detect_rl_zoo(files: Sequence[str]) -> bool:
    return _rl_zoo_layout(files) is not None


def load_rl_zoo(repo: HubRepo) -> HubPolicy:
    """An rl-baselines3-zoo log folder: its final model (``ENV.zip``; ``best_model.zip`` if that is
    all it has, or the zip the user named), run on the env its ``args.yml`` names, behind its
    ``vecnormalize.pkl`` when its ``config.yml`` says ``normalize``."""
    env_folder, models = _rl_zoo_layout(repo.files)
    config_path, args_path = repo.folder / env_folder / CONFIG_YML, repo.folder / env_folder / ARGS_YML
    config = read_rl_zoo_yaml(config_path) if config_path.is_file() else {}
    args = read_rl_zoo_yaml(args_path) if args_path.is_file() else {}
    changing = [key for key in _ENV_CHANGING if config.get(key)]
    env_kwargs = config.get("env_kwargs") or args.get("env_kwargs")
    if env_kwargs:
        changing.append(f"env_kwargs {env_kwargs!r}"[:120])
    if changing:
        raise ZooError(f"its run used {', '.join(changing)} ({env_folder}/{CONFIG_YML}), which change the env the "
                       "model acts on; the zoo would run it on the plain env")
    normalized = bool(config.get("normalize"))
    stats = f"{env_folder}/{VEC_NORMALIZE_FILE}"
    if normalized and stats not in repo.files:
        raise ZooError(f"its {env_folder}/{CONFIG_YML} says normalize, but {stats} is missing")
    env_id = args.get("env")
    return load_sb3_zip(repo, models[0], [env_id if isinstance(env_id, str) else None, env_folder],
                        vec_normalize_name=stats if normalized else None,
                        named_algorithm=repo.folder.parent.name if repo.folder.parent.name in ALGORITHMS else None,
                        layout="rl-baselines3-zoo")


# -- a zip of any name ---------------------------------------------------------------------------
def detect_zip(files: Sequence[str]) -> bool:
    """One zip at the top (and perhaps the ``vecnormalize.pkl`` that ``zoo export`` writes beside it)."""
    top = [name for name in files if "/" not in name]
    return len([name for name in top if name.endswith(".zip")]) == 1


def load_zip(repo: HubRepo) -> HubPolicy:
    """An SB3 zip of any name: the env is the one the user names (its file name may say it, as
    huggingface_sb3 names them)."""
    zip_name = next(name for name in repo.top_files if name.endswith(".zip"))
    # zoo export writes rl-baselines3-zoo's name; huggingface_sb3 pushes vec_normalize.pkl.
    stats = next((name for name in (VEC_NORMALIZE_FILE, "vec_normalize.pkl") if name in repo.top_files), None)
    named = _HF_NAME.match(zip_name)
    return load_sb3_zip(repo, zip_name, [repo.card_env(), named["env"] if named else None],
                        vec_normalize_name=stats, named_algorithm=named["algo"] if named else None,
                        layout="stable-baselines3 zip")


#: huggingface_sb3's file names: ``{algo}-{env}.zip``.
_HF_NAME = re.compile(rf"^(?P<algo>{'|'.join(ALGORITHMS)})-(?P<env>.+)\.zip$")
