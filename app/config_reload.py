"""SIGHUP: which settings of a reloaded configuration can change while the music plays.

The daemon loads the file(s) it started with again (the same ``--set`` overrides
on top), validated as a whole by the usual loader: a bad file is rejected with the
loader's one-line error and nothing changes. For a good file, :func:`plan_reload`
compares it with the running configuration key by key and splits the changed keys
into those applied live and those that need a restart (listed, not applied):

* ``fx.gain_db``, ``fx.hpf_hz``, ``fx.lpf_hz``, ``fx.drive``, ``fx.peak``: the master
  post-FX (``Engine.set_fx``: smoothed, heard at the next period);
* ``renderer.params.coupling``, ``.brightness``, ``.width``: the playing banks and
  the segments planned from now on;
* ``hr.*`` (the thresholds model only; not ``hr.model``): the heart-rate rules from
  the next sample;
* ``logging.level``.

Everything else (the device, the ring, ports, OSC access, the renderer's structure,
the outputs ...) is wired once at start: it needs a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bassd.app.config import Config

LIVE_FX = ("gain_db", "hpf_hz", "lpf_hz", "drive", "peak")
LIVE_RENDERER = ("coupling", "brightness", "width")


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``section.key`` → leaf value (lists are leaves)."""
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def changed_keys(old: Config, new: Config) -> list[str]:
    """The dotted keys whose values differ between two configurations, sorted."""
    a, b = flatten(old.model_dump(mode="json")), flatten(new.model_dump(mode="json"))
    return sorted(k for k in set(a) | set(b) if a.get(k, _MISSING) != b.get(k, _MISSING))


_MISSING = object()


def is_live(key: str, old: Config, new: Config) -> bool:
    """Whether ``key`` can change while the daemon plays."""
    section, _, rest = key.partition(".")
    if section == "fx":
        return rest in LIVE_FX
    if section == "renderer":
        return rest in {f"params.{name}" for name in LIVE_RENDERER}
    if section == "hr":
        return rest != "model" and old.hr.model == new.hr.model == "thresholds"
    return key == "logging.level"


@dataclass
class ReloadPlan:
    live: list[str] = field(default_factory=list)  # applied now
    restart: list[str] = field(default_factory=list)  # changed, but only a restart applies them


def plan_reload(old: Config, new: Config) -> ReloadPlan:
    plan = ReloadPlan()
    for key in changed_keys(old, new):
        (plan.live if is_live(key, old, new) else plan.restart).append(key)
    return plan


def value_at(config: Config, key: str) -> Any:
    """The value at a dotted key of a configuration."""
    node: Any = config
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def adopt(config: Config, new: Config, keys: list[str]) -> None:
    """Copy the values at ``keys`` from ``new`` into the running ``config`` in place (the
    closures wired at start, such as the planner's base parameters, see them). ``new``
    was validated as a whole, so each value is set without re-validating its section
    (a band such as hpf < lpf may move through an invalid state key by key)."""
    for key in keys:
        *parents, leaf = key.split(".")
        node: Any = config
        for part in parents:
            node = getattr(node, part)
        object.__setattr__(node, leaf, value_at(new, key))
