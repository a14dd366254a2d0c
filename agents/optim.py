"""Adam for the zoo's agents: ``torch.optim.Adam``'s update, without importing ``torch._dynamo``.

Every ``torch.optim.Optimizer`` imports ``torch._dynamo`` (the compiler: 0.7-3 s on a laptop
CPU, more than a whole CartPole training) the first time it is constructed, stepped, zeroed or
saved: ``add_param_group``, ``zero_grad`` and ``state_dict`` are wrapped in
``torch._disable_dynamo`` and ``step`` in ``_use_grad_for_differentiable``, which import it
on every call. The update itself is public as a function, ``torch.optim.adam.adam`` (in
``torch.optim.adam.__all__``: "Functional API that performs Adam algorithm computation", the
function ``Adam.step`` calls and ``torch.distributed.optim`` uses), which imports nothing
when nothing is being compiled. :class:`Adam` keeps the state and calls it exactly as
``torch.optim.Adam.step`` does on CPU (single-tensor path), so the weights it produces are
those of ``torch.optim.Adam`` bit for bit, and its ``state_dict`` has the same layout (saved
training states load into either).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch.optim.adam import adam


class Adam:
    """``torch.optim.Adam(params, lr, betas, eps)`` with no weight decay, amsgrad or maximize:
    ``zero_grad``, ``step``, ``state_dict`` and ``load_state_dict`` as torch's."""

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        params = list(params)
        if params and isinstance(params[0], dict):  # torch's one-group form, as param_groups gives it
            (group,) = params
            lr, betas, eps = group.get("lr", lr), group.get("betas", betas), group.get("eps", eps)
            params = list(group["params"])
        self.params = params
        self.group: dict[str, Any] = {
            "lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": 0, "amsgrad": False, "maximize": False,
            "foreach": None, "capturable": False, "differentiable": False, "fused": None,
            "decoupled_weight_decay": False,
        }
        self.state: dict[int, dict[str, torch.Tensor]] = {}

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """torch's view of the settings: one group, holding the parameters themselves."""
        return [{**self.group, "params": self.params}]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _state(self, index: int, p: torch.Tensor) -> dict[str, torch.Tensor]:
        if index not in self.state:  # as Adam._init_group on CPU
            self.state[index] = {"step": torch.tensor(0.0, dtype=torch.get_default_dtype()),
                                 "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                                 "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}
        return self.state[index]

    @torch.no_grad()
    def step(self) -> None:
        with_grad = [(i, p) for i, p in enumerate(self.params) if p.grad is not None]
        states = [self._state(i, p) for i, p in with_grad]
        group = self.group
        adam([p for _, p in with_grad], [p.grad for _, p in with_grad], [s["exp_avg"] for s in states],
             [s["exp_avg_sq"] for s in states], [], [s["step"] for s in states],
             foreach=False, capturable=False, differentiable=False, fused=False, grad_scale=None, found_inf=None,
             has_complex=any(torch.is_complex(p) for _, p in with_grad), decoupled_weight_decay=False,
             amsgrad=False, beta1=group["betas"][0], beta2=group["betas"][1], lr=group["lr"], weight_decay=0.0,
             eps=group["eps"], maximize=False)

    def state_dict(self) -> dict[str, Any]:
        """``torch.optim.Adam.state_dict()``'s layout: per-parameter state by index, one group."""
        return {"state": {i: dict(s) for i, s in sorted(self.state.items())},
                "param_groups": [{**self.group, "params": list(range(len(self.params)))}]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self.params):
            raise ValueError("the saved optimiser state is for a different set of parameters")
        group = {k: v for k, v in groups[0].items() if k != "params"}
        unsupported = {k: group[k] for k in ("weight_decay", "amsgrad", "maximize") if group.get(k)}
        if unsupported:
            raise ValueError(f"saved Adam settings {unsupported} are not supported")
        self.group.update({k: group[k] for k in ("lr", "betas", "eps") if k in group})
        self.state = {}
        for index, values in state_dict["state"].items():
            p = self.params[int(index)]
            self.state[int(index)] = {
                "step": torch.as_tensor(values["step"], dtype=torch.get_default_dtype()).clone(),
                "exp_avg": values["exp_avg"].to(p).clone(),
                "exp_avg_sq": values["exp_avg_sq"].to(p).clone()}
