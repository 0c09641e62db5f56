"""Vibes and the four-layer mix: what the soundscape layers play, chosen from the library.

A vibe (``configs/vibes.yaml``, or ``layers.vibes_file``) names the tags it prefers, the
descriptor ranges its files must fall in, the role of each of its four layers (a role is
itself descriptor ranges: bed, texture, tonal, events) and each layer's gain, pan and
cut-off. The heart-rate state may narrow the ranges (``states``: stress calmer).

The mix rule (:func:`build_mix`), seeded:

1. candidates: entries at least ``min_seconds`` long inside the vibe's ranges (narrowed by
   the state); fewer than four: inside the state's ranges only, then every entry long
   enough (``widened``);
2. the anchor, layer 1: among the candidates of its role (none: all candidates), those with
   the most of the vibe's tags (user tags and descriptor words), the best three by tag count
   then id; the seed picks one;
3. layers 2-4 in turn: among the unpicked candidates of the layer's role (none: all
   unpicked candidates), the three nearest in audio embedding to the mean of the layers
   picked so far, near-duplicates of a pick (cosine > 0.995) left out; the seed picks one
   of the two nearest. So the mix holds together in sound but never repeats a file.

:func:`load_voice` decodes an entry (at most ``max_loop_seconds``), finds its loop points
(:mod:`bassd.dsp.loop_points`) and levels the loop: run it off the audio loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bassd.dsp.loop_points import find_loop, make_loop
from bassd.engine.layers import SLOTS, LayerVoice

Range = tuple[float | None, float | None]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Vibe(_Strict):
    description: str = ""
    tags: list[str] = []
    ranges: dict[str, Range] = {}
    roles: list[str] = Field(min_length=SLOTS, max_length=SLOTS)
    gains_db: list[float] = Field([-8.0] * SLOTS, min_length=SLOTS, max_length=SLOTS)
    pans: list[float] = Field([0.0] * SLOTS, min_length=SLOTS, max_length=SLOTS)
    cutoff_hz: list[float] = Field([12000.0] * SLOTS, min_length=SLOTS, max_length=SLOTS)


class VibeFile(_Strict):
    roles: dict[str, dict[str, Range]] = {}
    states: dict[str, dict[str, Range]] = {}
    vibes: dict[str, Vibe] = {}

    @model_validator(mode="after")
    def _roles_known(self) -> VibeFile:
        for name, vibe in self.vibes.items():
            for role in vibe.roles:
                if role not in self.roles:
                    known = ", ".join(sorted(self.roles))
                    raise ValueError(f"vibe {name}: unknown role {role!r} (roles: {known})")
        return self


def shipped_vibes_path() -> Path:
    return Path(str(files("bassd.configs") / "vibes.yaml"))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: must be a mapping")
    return data


def load_vibes(path: Path | str | None = None) -> VibeFile:
    """The shipped vibes, with ``path``'s roles, states and vibes over them. ValueError
    naming the file and the bad key (an unknown key is an error)."""
    base = _read(shipped_vibes_path())
    if path is not None:
        extra = _read(Path(path).expanduser())
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                base[key] = {**base[key], **value}
            else:
                base[key] = value
    try:
        return VibeFile.model_validate(base)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"{path or shipped_vibes_path()}: {loc}: {err['msg']}") from None


def narrow(ranges: dict[str, Range], by: dict[str, Range]) -> dict[str, Range]:
    """``ranges`` with each bound of ``by`` applied where it is tighter."""
    out = dict(ranges)
    for key, (lo, hi) in by.items():
        a, b = out.get(key, (None, None))
        lo2 = lo if a is None else (a if lo is None else max(a, lo))
        hi2 = hi if b is None else (b if hi is None else min(b, hi))
        out[key] = (lo2, hi2)
    return out


def _inside(entry: Any, ranges: dict[str, Range]) -> bool:
    for key, (lo, hi) in ranges.items():
        v = entry.descriptors.get(key)
        if v is None or (lo is not None and v < lo) or (hi is not None and v > hi):
            return False
    return True


@dataclass(frozen=True)
class Pick:
    slot: int  # 1..4
    entry_id: int
    name: str
    role: str
    gain_db: float
    pan: float
    cutoff_hz: float
    how: str  # "anchor" or "near"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Mix:
    vibe: str
    state: str | None
    picks: tuple[Pick, ...]
    widened: bool

    def summary(self) -> str:
        return "; ".join(f"{p.slot}:{p.role}={p.name}#{p.entry_id}" for p in self.picks)


def build_mix(lib: Any, vibes: VibeFile, vibe: str, *, seed: int, state: str | None = None,
              min_seconds: float = 2.0) -> Mix:  # fmt: skip
    """The four-layer mix for ``vibe`` (the rule in the module docstring). ValueError for an
    unknown vibe or an empty library."""
    if vibe not in vibes.vibes:
        raise ValueError(f"unknown vibe {vibe!r} (vibes: {', '.join(sorted(vibes.vibes))})")
    v = vibes.vibes[vibe]
    calm = vibes.states.get(state, {}) if state is not None else {}
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, sum(vibe.encode())])
    cands: list[Any] = []
    widened = False
    for tier in (narrow(dict(v.ranges), calm), dict(calm), {}):
        cands = lib.entries(min_duration=min_seconds, ranges=tier)
        if len(cands) >= SLOTS:
            break
        widened = True
    if not cands:
        raise ValueError(f"no library entry of {min_seconds:g} s or more to build a mix")
    picks: list[Pick] = []
    vecs: list[np.ndarray] = []
    taken: set[int] = set()
    wanted = {t.lower() for t in v.tags}
    for i, role in enumerate(v.roles):
        left = [e for e in cands if e.id not in taken]
        if not left:
            break
        fit = [e for e in left if _inside(e, vibes.roles[role])] or left
        if not vecs:

            def tag_score(e: Any) -> int:
                return len(wanted & {t.lower() for t in (*e.tags, *e.auto_tags)})

            best = sorted(fit, key=lambda e: (-tag_score(e), e.id))[:3]
            chosen, how = best[int(rng.integers(len(best)))], "anchor"
        else:
            centre = np.mean(vecs, axis=0)
            hits = lib.nearest(centre, top=len(fit), among=[e.id for e in fit])
            by_id = {e.id: e for e in fit}
            ok = []
            for h in hits:
                vec = lib.vector(h.id)
                if vec is None or max(float(vec @ p) for p in vecs) > 0.995:
                    continue
                ok.append(by_id[h.id])
                if len(ok) == 2:
                    break
            ok = ok or sorted(fit, key=lambda e: e.id)[:2]
            chosen, how = ok[int(rng.integers(len(ok)))], "near"
        vec = lib.vector(chosen.id)
        if vec is not None:
            vecs.append(np.asarray(vec, dtype=np.float64))
        taken.add(chosen.id)
        picks.append(Pick(i + 1, chosen.id, chosen.name, role, v.gains_db[i], v.pans[i],
                          v.cutoff_hz[i], how))  # fmt: skip
    return Mix(vibe, state, tuple(picks), widened)


def load_voice(lib: Any, entry_id: int, sample_rate: int, *, max_seconds: float = 60.0,
               fade_seconds: float = 1.0, level_dbfs: float = -20.0) -> LayerVoice:  # fmt: skip
    """Decode an entry (its first ``max_seconds``), loop it seamlessly and level its RMS to
    ``level_dbfs`` (peaks kept under -1 dBFS): a voice ready for a layer."""
    entry = lib.get(entry_id)
    limit = round(max_seconds * sample_rate)
    chunks, have = [], 0
    for chunk in lib.read_audio(entry_id, sample_rate):
        chunks.append(chunk)
        have += len(chunk)
        if have >= limit:
            break
    x = np.concatenate(chunks)[:limit] if chunks else np.zeros(0)
    points = find_loop(x, sample_rate, fade_seconds=fade_seconds)
    loop = make_loop(x, points)
    rms = float(np.sqrt(np.mean(loop * loop)))
    if rms > 1e-9:
        loop *= 10.0 ** (level_dbfs / 20.0) / rms
    peak = float(np.abs(loop).max()) if loop.size else 0.0
    if peak > 0.89:
        loop *= 0.89 / peak
    meta = {"start": points.start, "end": points.end, "fade": points.fade,
            "score": round(points.score, 4), "rho": round(points.rho, 4)}  # fmt: skip
    return LayerVoice(loop.astype(np.float32), entry.name, entry.id, meta)
