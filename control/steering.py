"""Steering beside the heart rate: a detected emotion, or a scene, picks the music.

Both act the way the heart-rate state does: through the planner's category and
renderer parameters for the segments ahead, replanned and faded in (the state
change's early crossfade). What decides when several speak:

* a **scene** (``/scene s``) holds until another scene or ``/scene off``;
* an **emotion** (``/emotion s f``: label, confidence from any source) counts only
  at or above ``emotion.min_confidence`` and for ``emotion.hold_seconds`` after its
  last message; ``emotion.precedence`` says how it meets the HR state: ``hr`` (the
  default: the emotion steers only while the HR state is neutral), ``emotion`` (it
  always steers) or ``latest`` (whichever changed last);
* with none of them, the HR state's category (``prompts.state_categories``).

Pure: no clocks (times are passed in), no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bassd.control.prompt_schema import CATEGORIES
from bassd.dsp.bank_params import KuramotoParams
from bassd.engine.config import Strict

FX_KEYS = ("gain_db", "hpf_hz", "lpf_hz", "drive", "peak")
#: where a category the bank has no prompts for falls back to (the shipped bank has the
#: three core categories only)
CATEGORY_FALLBACK = {"uplifting": "activating", "grounding": "calm"}


def _check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Renderer parameters, each validated by KuramotoParams (a bad one is named)."""
    unknown = set(params) - set(KuramotoParams.model_fields)
    if unknown:
        raise ValueError(f"unknown renderer parameter(s) {sorted(unknown)}")
    KuramotoParams(**params)  # ranges
    return dict(params)


class EmotionMapping(Strict):
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    params: dict[str, Any] = Field(default_factory=dict)

    _p = field_validator("params")(classmethod(lambda cls, v: _check_params(v)))


DEFAULT_EMOTIONS: dict[str, dict[str, Any]] = {
    # what the music answers to a feeling: towards balance, not a mirror of it
    "neutral": {"category": "neutral"},
    "calm": {"category": "calm", "params": {"brightness": 0.4}},
    "happy": {"category": "uplifting", "params": {"brightness": 0.65}},
    "sad": {"category": "uplifting", "params": {"brightness": 0.55, "coupling": 1.2}},
    "angry": {"category": "calm", "params": {"brightness": 0.3, "coupling": 1.5}},
    "fearful": {"category": "grounding", "params": {"brightness": 0.35, "coupling": 1.8}},
    "anxious": {"category": "grounding", "params": {"brightness": 0.35, "coupling": 1.8}},
    "surprised": {"category": "grounding"},
    "disgusted": {"category": "calm"},
    "bored": {"category": "activating", "params": {"brightness": 0.7}},
    "tired": {"category": "activating", "params": {"brightness": 0.6}},
}


class EmotionConfig(Strict):
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    hold_seconds: float = Field(60.0, gt=0.0, le=86_400.0)
    precedence: Literal["hr", "emotion", "latest"] = "hr"
    table: dict[str, EmotionMapping] = Field(
        default_factory=lambda: {k: EmotionMapping(**v) for k, v in DEFAULT_EMOTIONS.items()}
    )


class Scene(Strict):
    description: str = ""
    category: Literal[CATEGORIES] | None = None  # type: ignore[valid-type]
    params: dict[str, Any] = Field(default_factory=dict)  # renderer parameters
    fx: dict[str, float] = Field(default_factory=dict)  # gain_db, hpf_hz, lpf_hz, drive, peak
    tempo_bpm: float | None = Field(None, ge=20.0, le=240.0)
    adapters: dict[str, float] = Field(default_factory=dict)  # musicgen LoRA blend
    crossfade_seconds: float | None = Field(None, ge=0.1, le=30.0)

    _p = field_validator("params")(classmethod(lambda cls, v: _check_params(v)))

    @field_validator("fx")
    @classmethod
    def _fx(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - set(FX_KEYS)
        if unknown:
            raise ValueError(f"unknown fx setting(s) {sorted(unknown)}; allowed: {FX_KEYS}")
        return v

    def renderer_params(self) -> dict[str, Any]:
        out = dict(self.params)
        if self.tempo_bpm is not None:
            out["tempo_bpm"] = self.tempo_bpm
        return out


class ScenesConfig(Strict):
    file: str | None = None  # a YAML of user scenes (name -> scene), over the shipped ones
    seed: int = 0  # /scene/surprise draws from a generator seeded with this
    scenes: dict[str, Scene] = Field(default_factory=dict)  # inline user scenes

    @model_validator(mode="after")
    def _names(self) -> ScenesConfig:
        for name in self.scenes:
            if not name or name == "off" or not name.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"scene name {name!r}: letters, digits, - and _ only (not 'off')")
        return self


@dataclass
class Steering:
    """Who steers the category and parameters now (see the module)."""

    emotion: EmotionConfig
    scenes: dict[str, Scene]
    seed: int = 0
    scene: str | None = None
    label: str | None = None
    confidence: float = 0.0
    emotion_t: float = -1e30
    hr_t: float = -1e30  # when the HR state last changed
    hr_state: str = "neutral"
    _surprises: int = field(default=0)

    def set_emotion(self, label: str, confidence: float, t: float) -> str:
        """Take an emotion report; returns what happened ("applied", "ignored: ...")."""
        key = label.strip().lower()
        if key not in self.emotion.table:
            known = ", ".join(sorted(self.emotion.table))
            raise ValueError(f"unknown emotion {label!r} (known: {known})")
        if confidence < self.emotion.min_confidence:
            return f"ignored: confidence {confidence:.2f} < {self.emotion.min_confidence:g}"
        changed = key != self.label or t - self.emotion_t > self.emotion.hold_seconds
        self.label, self.confidence, self.emotion_t = key, float(confidence), t
        return "applied" if changed else "held"

    def hr_changed(self, state: str, t: float) -> None:
        self.hr_state, self.hr_t = state, t

    def set_scene(self, name: str) -> Scene | None:
        if name == "off":
            self.scene = None
            return None
        if name not in self.scenes:
            raise ValueError(f"unknown scene {name!r} (scenes: {', '.join(sorted(self.scenes))})")
        self.scene = name
        return self.scenes[name]

    def surprise(self) -> str:
        """A scene drawn (seeded) among the others than the current one."""
        rng = random.Random(f"{self.seed}:{self._surprises}")
        self._surprises += 1
        names = sorted(n for n in self.scenes if n != self.scene) or sorted(self.scenes)
        if not names:
            raise ValueError("no scenes to choose from")
        return rng.choice(names)

    def _emotion_active(self, t: float) -> bool:
        if self.label is None or t - self.emotion_t > self.emotion.hold_seconds:
            return False
        p = self.emotion.precedence
        if p == "emotion":
            return True
        if p == "hr":
            return self.hr_state == "neutral"
        return self.emotion_t >= self.hr_t

    def category(self, state_category: str, t: float) -> tuple[str, str]:
        """(category, source) for a segment planned at ``t``."""
        if self.scene is not None and self.scenes[self.scene].category is not None:
            return str(self.scenes[self.scene].category), f"scene {self.scene}"
        if self._emotion_active(t):
            assert self.label is not None
            return str(self.emotion.table[self.label].category), f"emotion {self.label}"
        return state_category, "hr"

    def params(self, t: float) -> dict[str, Any]:
        """Renderer parameters the steering sets (the performer's /renderer/* still win)."""
        out: dict[str, Any] = {}
        if self._emotion_active(t) and self.label is not None:
            out.update(self.emotion.table[self.label].params)
        if self.scene is not None:
            out.update(self.scenes[self.scene].renderer_params())
        return out
