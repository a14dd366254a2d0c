"""rl-baselines3-zoo's hyperparameter files, read as they are by the zoo's SB3 agents:
``zoo train sb3-ppo CartPole-v1 --config ppo.yml``.

A file (``hyperparams/ppo.yml`` in rl-baselines3-zoo) is keyed by gymnasium id; each entry is
what ``rl_zoo3/exp_manager.py`` reads (``_preprocess_hyperparams``), translated here into the
agent's config:

- ``n_timesteps``: the training budget in env steps;
- ``policy``: the SB3 policy, which must be the one the zoo runs for the env's observations
  (``MlpPolicy``; ``CnnPolicy`` for images);
- ``n_envs``, and every key that is a field of the agent's config (``learning_rate``,
  ``n_steps``, ``gamma``, ...), as they are;
- ``lin_<x>`` for ``learning_rate`` / ``clip_range``: x falling linearly to 0 over the run,
  which the zoo counts in env steps (``schedule_steps`` = the run's budget: ``n_timesteps``, or
  ``--steps`` as rl_zoo3's ``-n``), since it calls ``learn()`` once per iteration;
- ``exploration_fraction`` (DQN, QR-DQN): ``exploration_steps`` = fraction × the run's budget;
- ``policy_kwargs``: a Python expression in a string, parsed with :mod:`ast` and never
  evaluated: literals, lists, ``dict(...)`` and ``nn.<Activation>`` names from a fixed table;
  ``net_arch``, ``activation_fn`` and the agent's policy fields (``log_std_init``, ``use_expln``, ...)
- ``normalize``: ``true``, or ``"{'norm_obs': True, 'norm_reward': False}"`` (or ``dict(...)``):
  SB3's ``VecNormalize`` (``norm_obs`` / ``norm_reward``);
- ``noise_type`` (``normal``, ``ornstein-uhlenbeck``) with ``noise_std`` (TD3, DDPG): the
  agents' action noise;
- ``env_kwargs``: the env's keyword arguments (``gymnasium.make(id, **env_kwargs)``), data only;
- ``env_wrapper``: wrappers from a fixed known set (:mod:`zoo.agents.sb3_wrappers`), never an
  import path the file names; ``frame_stack``: SB3's ``VecFrameStack``;
- the ``atari`` entry, for any env gymnasium makes with ale-py;
- ``replay_buffer_class: HerReplayBuffer``, ``replay_buffer_kwargs`` and her.yml's ``model_class``
  entries: HER on goal envs (:mod:`zoo.agents.sb3_her`);
- on-policy agents learn one rollout (``n_envs × n_steps``) per iteration (``iteration_steps``
  0), so that a budget is SB3's ``model.learn(N)``.

Anything else (``callback``, ``vec_env_wrapper``, ...) is refused, with every such key named:
the run would not be the one the file describes.
"""

from __future__ import annotations

import ast
import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from zoo import EnvEntry, ForeignConfig, ZooError

from .sb3_her import her_entry
from .sb3_wrappers import specs_from_file

FORMAT = "rl-baselines3-zoo"
#: Modules an activation may be named through, as rl-zoo's files write it (``nn.ReLU``,
#: ``th.nn.ReLU``), and the activations the SB3 agents have, by torch's class name.
TORCH_MODULES = ("nn", "th.nn", "torch.nn")
ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu", "ELU": "elu", "GELU": "gelu", "LeakyReLU": "leaky_relu",
               "SiLU": "silu"}
#: Optimisers a ``policy_kwargs`` may name (``optimizer_class=RMSpropTFLike``, as rl-zoo's Atari A2C).
OPTIMIZERS = ("RMSpropTFLike",)
#: Keys rl-zoo reads that become the budget, the policy, normalisation or several config fields.
_SPECIAL = ("n_timesteps", "policy", "policy_kwargs", "normalize", "exploration_fraction", "env_wrapper", "env_kwargs")
#: The entry rl-baselines3-zoo uses for every Atari game (ids ``ALE/...``, ``...NoFrameskip-v4``).
ATARI_ENTRY = "atari"


@dataclass(frozen=True)
class TorchName:
    """A ``nn.<Name>`` in a ``policy_kwargs`` string: a name, not the class (nothing is imported)."""

    name: str


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        parent = _dotted(node.value)
        return f"{parent}.{node.attr}" if parent else None
    return None


def _literal(node: ast.AST, what: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand, what)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item, what) for item in node.elts]
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str)
                                          for k in node.keys):
        return _table([(k.value, v) for k, v in zip(node.keys, node.values)], what)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"
            and not node.args and all(kw.arg is not None for kw in node.keywords)):
        return _table([(kw.arg, kw.value) for kw in node.keywords], what)
    dotted = _dotted(node)
    if dotted is not None:
        module, _, name = dotted.rpartition(".")
        if module in TORCH_MODULES and name in ACTIVATIONS:
            return TorchName(name)
        if dotted in OPTIMIZERS:
            return TorchName(dotted)
    raise ZooError(f"{what}: {_shown(ast.unparse(node))} is not allowed (only literals, lists, dict(...) and "
                   f"nn.<{'|'.join(ACTIVATIONS)}>); nothing in the file is run")


def _table(items: list[tuple[str, ast.AST]], what: str) -> dict[str, Any]:
    """A ``dict(...)`` or ``{...}``, each key given once (Python would keep the last silently)."""
    table: dict[str, Any] = {}
    for key, node in items:
        if key in table:
            raise ZooError(f"{what}: key {_shown(key)} is given twice; give each key once")
        table[key] = _literal(node, what)
    return table


def parse_python_literal(text: str, what: str) -> Any:
    """The value of a Python expression such as ``"dict(net_arch=[64, 64], activation_fn=nn.ReLU)"``,
    read from its syntax tree: literals, lists, ``dict(...)`` and torch activation names only.
    (What it reads goes back to the zoo, which holds it to the limits of a config file.)"""
    too_deep = f"{what} nests too deeply to be read; rl-zoo's are dict(...), lists and literals a few levels deep"
    try:
        return _literal(ast.parse(text.strip(), mode="eval").body, what)
    except SyntaxError as exc:
        if exc.msg.startswith("too many nested"):  # the parser's own limit on brackets
            raise ZooError(too_deep) from None
        raise ZooError(f"{what}: {_shown(text)} is not a Python expression ({exc.msg[:100]})") from None
    except (RecursionError, MemoryError):  # how the parser and _literal end on thousands of nested "-" or "("
        raise ZooError(too_deep) from None


def _shown(value: Any, width: int = 60) -> str:
    """``repr(value)`` cut short (:mod:`reprlib`, then to ``width``): a file's values are echoed in
    messages, never whole. (The zoo's own ``zoo.limits.shown``, which plugins cannot import.)"""
    try:
        text = reprlib.repr(value)
    except ValueError:  # an int past Python's int-string limit (the zoo refuses those in files)
        return f"a {type(value).__name__} too long to show"
    return text if len(text) <= width else text[:width - 3] + "..."


def _listed(values: list[Any], most: int = 12) -> str:
    text = ", ".join(_shown(value) for value in values[:most])
    return text + (f" and {len(values) - most:,} more" if len(values) > most else "")


def _net_arch(value: Any, has_critic_arch: bool) -> dict[str, list[int]]:
    """SB3's ``net_arch``: a list of sizes, or ``dict(pi=[...], vf=[...])`` (``qf`` for SAC; older
    files wrap the dict in a list), which the zoo's agents take when both networks are the same,
    or, for an agent with a ``critic_arch``, as ``net_arch`` and ``critic_arch``."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        value = value[0]
    if isinstance(value, dict):
        archs = list(value.values())
        if has_critic_arch and set(value) in ({"pi", "qf"}, {"pi", "vf"}):
            critic = value.get("qf", value.get("vf"))
            return {"net_arch": _sizes(value["pi"]), "critic_arch": _sizes(critic)}
        if not archs or any(a != archs[0] for a in archs):
            raise ZooError(f"policy_kwargs net_arch {_shown(value)}: this agent uses one architecture for "
                           "every network; different ones are not supported")
        value = archs[0]
    return {"net_arch": _sizes(value)}


def _sizes(value: Any) -> list[int]:
    if not (isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                                      for v in value)):
        raise ZooError(f"policy_kwargs net_arch {_shown(value)} is not a list of layer sizes")
    return value


def _policy_kwargs(value: Any, config_fields: set[str]) -> dict[str, Any]:
    kwargs = parse_python_literal(value, "policy_kwargs") if isinstance(value, str) else value
    if not isinstance(kwargs, dict):
        raise ZooError(f"policy_kwargs must be a dict(...), got {_shown(value)}")
    result: dict[str, Any] = {}
    refused = []
    for key, item in kwargs.items():
        if key == "net_arch":
            result.update(_net_arch(item, "critic_arch" in config_fields))
        elif key == "activation_fn" and isinstance(item, TorchName) and item.name in ACTIVATIONS:
            result["activation"] = ACTIVATIONS[item.name]
        elif key == "optimizer_class" and "optimizer" in config_fields and isinstance(item, TorchName) and \
                item.name in OPTIMIZERS:
            result["optimizer"] = item.name
        elif key == "optimizer_kwargs" and "optimizer_eps" in config_fields and isinstance(item, dict) and \
                set(item) <= {"eps"}:
            result.update({"optimizer_eps": item["eps"]} if "eps" in item else {})
        elif key in config_fields and key not in _NOT_POLICY_KWARGS:
            result[key] = item
        else:
            refused.append(key)
    if refused:
        raise ZooError(f"policy_kwargs {_listed(refused)} cannot be honoured by this agent (it takes net_arch, "
                       "activation_fn and those of its hyperparameters that are the policy's)")
    return result


#: Config fields that are never a policy's arguments, whatever a policy_kwargs string says.
_NOT_POLICY_KWARGS = {"net_arch", "activation", "critic_arch", "optimizer", "optimizer_eps", "env_wrapper",
                      "frame_stack", "policy", "n_envs", "iteration_steps", "schedule_steps", "norm_obs", "norm_reward",
                      "vec_env", "device"}


def _normalize(value: Any) -> dict[str, bool]:
    """rl-zoo's ``normalize``: a bool for both, or VecNormalize's ``norm_obs`` / ``norm_reward``."""
    if isinstance(value, bool):
        return {"norm_obs": value, "norm_reward": value}
    kwargs = parse_python_literal(value, "normalize") if isinstance(value, str) else value
    if not isinstance(kwargs, dict) or set(kwargs) - {"norm_obs", "norm_reward"} or not all(
            isinstance(v, bool) for v in kwargs.values()):
        raise ZooError(f"normalize {_shown(value)}: the zoo takes true/false or norm_obs and norm_reward (true/false)")
    # VecNormalize normalises both unless told otherwise.
    return {"norm_obs": kwargs.get("norm_obs", True), "norm_reward": kwargs.get("norm_reward", True)}


def is_atari(gym_id: str) -> bool:
    """Whether gymnasium makes ``gym_id`` with ale-py (as rl_zoo3 tells Atari games apart)."""
    import gymnasium

    try:
        entry_point = gymnasium.spec(gym_id).entry_point
    except gymnasium.error.Error:
        return False
    return isinstance(entry_point, str) and entry_point.startswith("ale_py")


def _env_kwargs(value: Any, name: str) -> dict[str, Any]:
    """An entry's ``env_kwargs``: a table (or rl-zoo's ``"dict(...)"`` string, read as data), each
    key a keyword name; the zoo makes the env with them (and checks that it takes them)."""
    kwargs = parse_python_literal(value, f"{name}: env_kwargs") if isinstance(value, str) else value
    if kwargs is None:
        return {}
    if not isinstance(kwargs, Mapping) or not all(isinstance(key, str) and key.isidentifier() for key in kwargs):
        raise ZooError(f"{name}: env_kwargs must map the env's keyword arguments to values, got {_shown(kwargs)}")
    return dict(kwargs)


def _entry(data: Mapping[str, Any], env: EnvEntry) -> tuple[str, Mapping[str, Any]]:
    for name in (env.gym_id, *env.names):
        if name in data:
            return name, data[name]
    if ATARI_ENTRY in data and is_atari(env.gym_id):
        return ATARI_ENTRY, data[ATARI_ENTRY]
    raise ZooError(f"no {env.gym_id} entry in this rl-baselines3-zoo file (it has {_listed(list(data))})")


def looks_like_rl_zoo(data: Mapping[str, Any]) -> bool:
    """rl-zoo's files map env ids to tables of hyperparameters, and nothing else."""
    return bool(data) and all(isinstance(v, Mapping) for v in data.values())


def read_entry(agent_class: type, data: Mapping[str, Any], env: EnvEntry) -> ForeignConfig | None:
    """The ``env`` entry of an rl-baselines3-zoo hyperparameter file, as ``agent_class``'s config
    and budget; None if ``data`` is not such a file."""
    if not looks_like_rl_zoo(data):
        return None
    name, entry = _entry(data, env)
    # HER's keys (replay_buffer_class, her.yml's model_class, ...) become config fields (zoo.agents.sb3_her).
    entry = her_entry(entry, name, agent_class.defaults_key, parse_python_literal)
    config_fields = {f.name for f in fields(agent_class.Config)}
    refused = [key for key in entry if key not in _SPECIAL and key not in config_fields]
    if refused:
        raise ZooError(f"{name}: {_listed(refused)} cannot be honoured by the zoo's "
                       f"{agent_class.algorithm} (rl-zoo keys it reads: {', '.join(_SPECIAL)} and the agent's "
                       "hyperparameters)")
    values = {key: value for key, value in entry.items() if key not in _SPECIAL}
    steps = entry.get("n_timesteps")
    if steps is not None:
        # Its range is the zoo's, for every budget (ForeignConfig.budget); here, that int() takes it.
        if isinstance(steps, bool) or not isinstance(steps, (int, float)) or (
                isinstance(steps, float) and not math.isfinite(steps)) or steps < 1 or steps != int(steps):
            raise ZooError(f"{name}: n_timesteps must be a positive whole number, got {_shown(steps)}")
        steps = int(steps)
    policy = entry.get("policy")
    wanted = agent_class.policy_for(env.observation_space)
    if "policy" in config_fields and policy is not None:  # the agent has a choice (ARS: LinearPolicy or MlpPolicy)
        values["policy"] = policy
    elif policy is not None and policy != wanted and not entry.get("env_wrapper"):
        # (Behind wrappers, the observations the policy sees are not the env's: the agent picks
        # the policy for those when it builds the model.)
        raise ZooError(f"{name}: policy {_shown(policy)} is not supported here: the zoo runs {wanted} on "
                       f"{env.gym_id}'s observations")
    if "policy_kwargs" in entry:
        values.update(_policy_kwargs(entry["policy_kwargs"], config_fields))
    if "Cnn" in (values.get("policy") or policy or wanted) and "net_arch" not in values and "net_arch" in config_fields:
        values["net_arch"] = []  # SB3's own: NatureCNN's features go straight to the heads
    if "normalize" in entry:
        values.update(_normalize(entry["normalize"]))
    if "env_wrapper" in entry:
        values["env_wrapper"] = specs_from_file(entry["env_wrapper"]) if entry["env_wrapper"] is not None else ()
    if "n_steps" in config_fields and "iteration_steps" in config_fields and "iteration_steps" not in entry:
        # One zoo iteration is one rollout, n_envs × n_steps: SB3's granularity, and its log rows.
        values["iteration_steps"] = 0
    if "train_freq" in values and isinstance(values["train_freq"], list):
        freq = values["train_freq"]
        if len(freq) == 2 and freq[1] == "step":
            values["train_freq"] = freq[0]
        else:
            raise ZooError(f"{name}: train_freq {_shown(freq)} cannot be honoured (the zoo's agents update every "
                           "N steps)")
    if "env_wrapper" in entry and "env_wrapper" not in config_fields:
        raise ZooError(f"{name}: env_wrapper cannot be honoured by the zoo's {agent_class.algorithm}")
    fractions: dict[str, float] = {}
    if "exploration_fraction" in entry:
        if steps is None:
            raise ZooError(f"{name}: exploration_fraction is a fraction of n_timesteps, which the entry does not give")
        fraction = entry["exploration_fraction"]
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
            raise ZooError(f"{name}: exploration_fraction must be a number from 0 to 1 (the part of n_timesteps "
                           f"over which epsilon falls), got {_shown(fraction)}")
        fractions["exploration_steps"] = fraction
    if any(isinstance(values.get(k), str) and values[k].startswith("lin_") for k in ("learning_rate", "clip_range")):
        if steps is None:
            raise ZooError(f"{name}: lin_ schedules fall to 0 over n_timesteps, which the entry does not give")
        fractions["schedule_steps"] = 1.0
    # The zoo sets them from the run's budget: n_timesteps, or --steps as rl_zoo3's -n.
    return ForeignConfig(values, {"steps": steps} if steps is not None else None, f"{FORMAT}, entry {name}",
                         fractions, _env_kwargs(entry.get("env_kwargs"), name))
