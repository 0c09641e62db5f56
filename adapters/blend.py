"""An exact weight-space blend of LoRA adapters, written into a model's own weights.

For every module an adapter touches the effective weight is

    W = W_base + Σᵢ wᵢ · ΔWᵢ,    ΔWᵢ = sᵢ · Bᵢ @ Aᵢ

— exactly what peft computes in its unmerged forward with each adapter's scale
multiplied by ``wᵢ``. peft's ``add_weighted_adapter(combination_type="linear")``
is *not* this (it sums the factors, so B·A gains cross terms), ``svd`` truncates,
and ``cat`` copies ``use_rslora`` from the first adapter; hence our own sum.

:class:`WeightBlender` writes the result in place (``weight.copy_``) so every
reference to the parameter sees it, and keeps a float32 copy of the base weight
of each module it ever touched: a re-blend starts from the base every time, and
an empty or all-zero blend restores the base weights bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from bassd.adapters.lora_files import AdapterError, LoraAdapter

Blend = Sequence[tuple[LoraAdapter, float]]


class WeightBlender:
    """Applies blends of :class:`LoraAdapter` to ``model``'s weights in place.

    Module paths in the adapters are relative to ``model`` (a
    ``MusicgenForConditionalGeneration``). ``version`` grows by one on every
    :meth:`apply` that changed a weight, so code caching fused copies of the
    weights can tell when to rebuild them. Not thread-safe: call from one thread.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        self._model = model
        self._modules = dict(model.named_modules())
        self._base: dict[str, torch.Tensor] = {}
        self._current: list[tuple[LoraAdapter, float]] = []
        self.version = 0

    @property
    def current(self) -> list[tuple[str, float]]:
        """The blend last applied, as ``[(adapter name, weight)]``."""
        return [(a.name, w) for a, w in self._current]

    @property
    def touched(self) -> list[str]:
        """Paths of the modules whose base weight this blender holds (ever adapted)."""
        return sorted(self._base)

    def _weight(self, adapter: LoraAdapter, module: str) -> torch.Tensor:
        mod = self._modules.get(module)
        weight = getattr(mod, "weight", None) if mod is not None else None
        if not isinstance(weight, torch.Tensor):
            what = "has no such module" if mod is None else "has no .weight on that module"
            raise AdapterError(
                f"adapter {adapter.name!r} ({adapter.path}) adapts {module!r}, but the model {what}"
            )
        delta = adapter.deltas[module]
        if tuple(delta.shape) != tuple(weight.shape):
            raise AdapterError(
                f"adapter {adapter.name!r} ({adapter.path}): {module} delta has shape "
                f"{tuple(delta.shape)} but the model's weight is {tuple(weight.shape)} "
                "(trained for another model size?)"
            )
        return weight

    def validate(self, blend: Blend) -> None:
        """Raise :class:`AdapterError` if any adapter names a module the model lacks or
        has a delta of the wrong shape (whatever its weight, zero included)."""
        for adapter, weight in blend:
            if not isinstance(weight, int | float) or weight != weight:
                raise AdapterError(f"adapter {adapter.name!r}: weight {weight!r} is not a number")
            for module in adapter.deltas:
                self._weight(adapter, module)

    def blend_deltas(self, blend: Blend) -> dict[str, torch.Tensor]:
        """Σ wᵢ·ΔWᵢ per module (float32, CPU); zero-weight adapters contribute nothing."""
        self.validate(blend)
        out: dict[str, torch.Tensor] = {}
        for adapter, weight in blend:
            if weight == 0:
                continue
            for module, delta in adapter.deltas.items():
                term = delta.to(torch.float32) * float(weight)
                out[module] = out[module].add_(term) if module in out else term
        return out

    @staticmethod
    def _key(blend: Blend) -> list[tuple[int, float]]:
        return [(id(a), float(w)) for a, w in blend if w != 0]

    def apply(self, blend: Blend) -> None:
        """Set every adapted module's weight to ``base + Σ w·Δ`` in place.

        All adapters are checked before any weight is written. Modules adapted by an
        earlier blend but not this one go back to their base weight.
        """
        blend = list(blend)
        if self._key(blend) == self._key(self._current):
            self._current = blend
            return
        deltas = self.blend_deltas(blend)
        with torch.no_grad():
            for module in deltas:
                if module not in self._base:
                    w = self._modules[module].weight
                    self._base[module] = w.detach().to(torch.float32, copy=True)
            for module, base in self._base.items():
                weight = self._modules[module].weight
                delta = deltas.get(module)
                if delta is None:
                    weight.copy_(base)
                else:
                    weight.copy_(base + delta.to(base.device))
        self._current = blend
        self.version += 1

    def clear(self) -> None:
        """Restore the base weights of every module touched (an empty blend)."""
        self.apply([])
