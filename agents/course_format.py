"""Hub format: a REINFORCE model pushed from the Hugging Face Deep RL course (``model.pt``, a
whole pickled torch module, next to ``hyperparameters.json``), run as the zoo's ``reinforce``.

The course's policy is Linear layers with ReLU between them; they become the body of the zoo's
REINFORCE policy when the shapes match the env. ``model.pt`` is a pickle: it loads only when
the user trusts the repo.
"""

from __future__ import annotations

import pickle
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import zoo
from zoo import HubPolicy, HubRepo, ZooError

#: The agent a course model is loaded into.
AGENT = "reinforce"
MODEL_FILE = "model.pt"
HYPERPARAMETERS_FILE = "hyperparameters.json"


def detect(files: Sequence[str]) -> bool:
    return MODEL_FILE in files


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
        raise ZooError(f"cannot load {MODEL_FILE}: {zoo.one_line(exc)}") from None
    if not isinstance(module, torch.nn.Module):
        raise ZooError(f"{MODEL_FILE} holds a {type(module).__name__}, not a torch module")
    return module


def load(repo: HubRepo) -> HubPolicy:
    import gymnasium
    import torch

    params = repo.read_json(HYPERPARAMETERS_FILE, f"{HYPERPARAMETERS_FILE} (next to {MODEL_FILE})")
    repo.check_agent(AGENT, "Deep RL course")
    env_name = repo.pick_env(params.get("env_id"), what=f"the course model {MODEL_FILE} ({HYPERPARAMETERS_FILE})")
    entry = zoo.env_entry(env_name)
    if not isinstance(entry.action_space, gymnasium.spaces.Discrete):
        raise ZooError(f"the course's REINFORCE policy is categorical, but env {env_name!r} has {entry.action_space}")
    repo.require_trust(MODEL_FILE, "a whole torch module, saved the Deep RL course's way")
    module = _unpickle_module(repo.folder / MODEL_FILE)
    layers = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    sizes = [layers[0].in_features, *(layer.out_features for layer in layers)] if layers else []
    shape = " -> ".join(map(str, sizes)) or "none"
    policy = zoo.make_agent(AGENT, env_name, overrides={
        "net_arch": sizes[1:-1], "activation": "relu", "norm_obs": False})
    state = policy.state_tensors()
    targets = [k for k in state if k.startswith("policy.") and k.endswith((".weight", ".bias"))]
    sources = [t for layer in layers for t in (layer.weight, layer.bias) if t is not None]
    fits = len(targets) == len(sources) and all(state[k].shape == t.shape for k, t in zip(targets, sources))
    if not layers or not fits:
        raise ZooError(f"the course model's Linear layers ({shape}) do not fit the zoo's {AGENT} policy for "
                       f"{entry.gym_id} ({entry.observation_space.shape[0]} observations -> {entry.action_space.n} "
                       "actions)")
    state.update({k: t.detach().clone().float() for k, t in zip(targets, sources)})
    policy.load_state_tensors(state)
    return HubPolicy(policy, env_name, f"Deep RL course {AGENT} model ({shape}) from {repo.label} "
                                       "(unpickled: trusted)", agent=AGENT)
