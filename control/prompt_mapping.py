"""Prompt -> Kuramoto renderer parameters: the mood and instrument tables.

The structured fields of a prompt audibly steer the embedded default renderer:
tempo, key and mode directly; mood words set brightness and coupling; instrument
words set density, width and a brightness shift.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from bassd.control.prompt_schema import Prompt
from bassd.dsp.bank_params import KuramotoParams

#: mood word → (brightness 0..1, coupling K/K_c). Low brightness = darker tilt; coupling
#: above 1 locks the detuned voices into a steady chord, below 1 lets them drift and shimmer.
#: The words of calm prompts sit low (they play under stress: ≥ 25 % darker than neutral),
#: those of activating prompts high; couplings keep clear of K_c (1.0), where the voices
#: lock slowly and the loudness a segment is normalised to is least predictable.
MOOD_WORDS: dict[str, tuple[float, float]] = {
    "serene": (0.05, 2.5),
    "grounded": (0.0, 2.5),
    "deep": (0.0, 2.5),
    "calm": (0.05, 2.0),
    "peaceful": (0.05, 2.2),
    "warm": (0.10, 1.8),
    "gentle": (0.10, 1.8),
    "soft": (0.08, 1.8),
    "dreamy": (0.15, 1.6),
    "reflective": (0.45, 1.6),
    "relaxed": (0.65, 1.6),
    "steady": (0.75, 1.6),
    "balanced": (0.75, 1.5),
    "focused": (0.80, 1.5),
    "curious": (0.80, 1.4),
    "hopeful": (0.85, 0.6),
    "playful": (0.90, 0.5),
    "lively": (0.90, 0.5),
    "uplifting": (0.90, 0.5),
    "energetic": (0.95, 0.4),
    "driving": (0.90, 0.3),
    "bright": (1.00, 0.5),
}
#: used only when none of the mood words is known
CATEGORY_MOOD: dict[str, tuple[float, float]] = {
    "calm": (0.05, 2.0),
    "grounding": (0.0, 2.2),
    "neutral": (0.75, 1.5),
    "uplifting": (0.85, 0.6),
    "activating": (0.95, 0.4),
}


class Style(NamedTuple):
    """How a category moves and sits: beats per chord (harmonic rhythm), the depth of the
    swell on each beat, and the register (the lowest tonic at or above MIDI ``low_note``)."""

    chord_beats: int
    pulse_depth: float
    low_note: int


#: prompt category → style. Calm changes chord every 12 beats (at its 50..68 bpm, ~12 s a
#: chord) with a faint swell, its lowest tonic from A2 (110 Hz) so a dark tilt stays above
#: the master's 120 Hz high-pass instead of thinning out under it; activating changes every
#: 4 beats (~2 s) with a marked swell, an octave up from C3 (131 Hz); neutral from G2.
CATEGORY_STYLE: dict[str, Style] = {
    "calm": Style(12, 0.06, 43),
    "grounding": Style(12, 0.06, 43),
    "neutral": Style(8, 0.12, 43),
    "uplifting": Style(6, 0.16, 46),
    "activating": Style(4, 0.20, 48),
}


class Voicing(NamedTuple):
    """What an instrument word asks of the bank: partials, stereo width, brightness shift."""

    density: int | None  # None: no say on density/width
    width: float | None
    brightness_shift: float


#: instrument word (singular; a trailing "s" is dropped when that matches) → voicing.
#: Sustained ensembles are dense and wide; plucked/struck/solo voices sparse; bass/drone darken.
INSTRUMENT_WORDS: dict[str, Voicing] = {
    "choir": Voicing(512, 0.95, 0.0),
    "string": Voicing(384, 0.90, 0.0),
    "pad": Voicing(320, 0.90, 0.0),
    "organ": Voicing(256, 0.60, 0.0),
    "brass": Voicing(256, 0.70, 0.05),
    "cello": Voicing(192, 0.70, -0.05),
    "synth": Voicing(160, 0.80, 0.05),
    "drone": Voicing(128, 0.50, -0.15),
    "guitar": Voicing(64, 0.60, 0.0),
    "harp": Voicing(64, 0.70, 0.0),
    "piano": Voicing(48, 0.50, 0.0),
    "marimba": Voicing(40, 0.60, 0.0),
    "vibraphone": Voicing(40, 0.60, 0.05),
    "bell": Voicing(32, 0.60, 0.10),
    "glockenspiel": Voicing(32, 0.60, 0.10),
    "flute": Voicing(24, 0.40, 0.0),
    "bass": Voicing(None, None, -0.10),
}

RENDERER_KEYS = tuple(KuramotoParams.model_fields)
MAX_INSTRUMENT_SHIFT = 0.15  # cap on the summed brightness shift of the instruments


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _instrument(word: str) -> Voicing | None:
    if word in INSTRUMENT_WORDS:
        return INSTRUMENT_WORDS[word]
    return INSTRUMENT_WORDS.get(word[:-1]) if word.endswith("s") else None


def _bounds(name: str) -> tuple[float, float]:
    """The (ge, le) bounds KuramotoParams declares for a numeric field."""
    lo, hi = -math.inf, math.inf
    for meta in KuramotoParams.model_fields[name].metadata:
        lo = float(getattr(meta, "ge", lo))
        hi = float(getattr(meta, "le", hi))
    return lo, hi


def _clamp(name: str, value: float) -> float:
    lo, hi = _bounds(name)
    return min(max(float(value), lo), hi)


def renderer_params(prompt: Prompt, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Kuramoto renderer parameters for ``prompt``, over ``base`` (the configured defaults).

    tempo, key and mode come from the prompt; mood words (see :data:`MOOD_WORDS`, else the
    category) set brightness and coupling; the category sets the harmonic rhythm, the
    pulse and the register (:data:`CATEGORY_STYLE`); instrument words (:data:`INSTRUMENT_WORDS`) set
    density (geometric mean) and width (mean) and shift brightness (by at most ±0.15). What
    the prompt does not determine keeps its ``base`` value. Only KuramotoParams' keys, each
    clamped to its range.
    """
    out: dict[str, Any] = KuramotoParams().model_dump()
    out.update({k: v for k, v in (base or {}).items() if k in RENDERER_KEYS})
    out.update(tempo_bpm=prompt.tempo_bpm, key=prompt.key, mode=prompt.mode)

    moods = [MOOD_WORDS[w] for w in _words(prompt.mood) if w in MOOD_WORDS]
    if not moods and prompt.category in CATEGORY_MOOD:
        moods = [CATEGORY_MOOD[prompt.category]]
    if moods:
        out["brightness"] = sum(b for b, _ in moods) / len(moods)
        out["coupling"] = sum(c for _, c in moods) / len(moods)

    if prompt.category in CATEGORY_STYLE:
        out.update(CATEGORY_STYLE[prompt.category]._asdict())

    voicings = [v for item in prompt.instruments for w in _words(item) if (v := _instrument(w))]
    sized = [v for v in voicings if v.density is not None and v.width is not None]
    if sized:
        log_mean = sum(math.log(v.density or 1) for v in sized) / len(sized)
        out["density"] = round(math.exp(log_mean))
        out["width"] = sum(v.width or 0.0 for v in sized) / len(sized)
    shift = sum(v.brightness_shift for v in voicings)
    shift = min(max(shift, -MAX_INSTRUMENT_SHIFT), MAX_INSTRUMENT_SHIFT)
    out["brightness"] = float(out["brightness"]) + shift

    for name in ("tempo_bpm", "brightness", "coupling", "width", "pulse_depth"):
        out[name] = round(_clamp(name, out[name]), 3)
    for name in ("density", "chord_beats", "low_note"):
        out[name] = int(_clamp(name, round(float(out[name]))))
    return out
