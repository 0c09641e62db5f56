"""A one-off prompt from free text (``/prompt/text``): read tempo, key, mode, mood and
instrument words, so the embedded DSP renderer follows the text too."""

from __future__ import annotations

import re

from bassd.control.prompt_bank import INSTRUMENT_WORDS, MOOD_WORDS, Prompt
from bassd.dsp.scales import KEYS, MODES

_TEMPO = re.compile(r"(\d{2,3}(?:\.\d+)?)\s*bpm", re.IGNORECASE)
_KEY = re.compile(
    r"\b([A-G](?:#|b)?)\s+(" + "|".join(sorted(MODES, key=len, reverse=True)) + r")\b"
)


def prompt_from_text(text: str, category: str, tempo_bpm: float, key: str, mode: str) -> Prompt:
    """A Prompt whose structured fields are read from ``text`` (defaults where it is silent)."""
    words = re.findall(r"[a-z]+", text.lower())
    m = _TEMPO.search(text)
    if m:
        tempo_bpm = min(240.0, max(20.0, float(m.group(1))))
    k = _KEY.search(text.replace("♯", "#").replace("♭", "b"))
    if k and k.group(1) in KEYS:
        key, mode = k.group(1), k.group(2)
    elif "minor" in words:
        mode = "aeolian"
    elif "major" in words:
        mode = "ionian"
    moods = [w for w in words if w in MOOD_WORDS]
    instruments = [w for w in words if w in INSTRUMENT_WORDS or w.rstrip("s") in INSTRUMENT_WORDS]
    return Prompt(
        id="free-text",
        category=category,
        genre="free text",
        mood=" ".join(moods) or category,
        instruments=tuple(instruments) or ("pad",),
        tempo_bpm=tempo_bpm,
        key=key,
        mode=mode,
        text=text.strip() or "(empty)",
    )


def prompt_near(text: str, neighbours: list[tuple[Prompt, float]]) -> Prompt:
    """A one-off prompt for ``text`` with no good match in the bank: its structured fields
    come from the nearest prompts (category, genre, key, mode of the nearest; tempo the
    score-weighted mean of up to three), and what the text says outright (tempo, key,
    mood and instrument words) wins."""
    if not neighbours:
        raise ValueError("no neighbours to map the free text from")
    near = neighbours[:3]
    weights = [max(score, 1e-3) for _, score in near]
    tempo = sum(p.tempo_bpm * w for (p, _), w in zip(near, weights, strict=True)) / sum(weights)
    base = near[0][0]
    said = prompt_from_text(text, base.category, tempo, base.key, base.mode)
    own_mood = said.mood != base.category
    return said.model_copy(update={
        "genre": base.genre,
        "mood": said.mood if own_mood else base.mood,
        "instruments": said.instruments if said.instruments != ("pad",) else base.instruments,
    })  # fmt: skip
