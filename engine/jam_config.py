"""The ``jam:`` section of the config: the keyboard accompanist and its metronome."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bassd.dsp.accomp_styles import STYLES
from bassd.dsp.key_profiles import PROFILES
from bassd.engine.config import Strict

Style = Literal["pad", "block", "arpeggio"]
assert set(STYLES) == {"pad", "block", "arpeggio"}, "Style must list dsp.accomp_styles.STYLES"


class MetronomeConfig(Strict):
    enabled: bool = True
    level_db: float = Field(-18.0, ge=-60.0, le=0.0)  # a normal click's peak, dBFS
    accent_db: float = Field(6.0, ge=0.0, le=24.0)  # the downbeat's extra gain


class TempoFollowConfig(Strict):
    """Tempo from the player's inter-onset intervals, with hysteresis."""

    enabled: bool = False
    threshold: float = Field(0.04, gt=0.0, le=0.5)  # relative change that counts
    hold: int = Field(4, ge=1, le=64)  # onsets the change must persist
    window: int = Field(8, ge=2, le=64)  # inter-onset intervals in the median
    min_bpm: float = Field(40.0, ge=20.0, le=300.0)
    max_bpm: float = Field(240.0, ge=20.0, le=300.0)

    @model_validator(mode="after")
    def _range(self) -> TempoFollowConfig:
        if self.min_bpm >= self.max_bpm:
            raise ValueError(f"min_bpm ({self.min_bpm}) must be below max_bpm ({self.max_bpm})")
        return self


class JamConfig(Strict):
    enabled: bool = False
    bed: bool = True  # the segment timeline plays under the jam (false: the jam alone)
    tempo_bpm: float = Field(100.0, ge=20.0, le=300.0)
    beats_per_bar: int = Field(4, ge=1, le=16)
    accompaniment: bool = True  # chords on/off (the metronome has its own switch)
    style: Style = "block"
    program: int = Field(0, ge=0, le=127)  # GM program of the chords (0: acoustic grand)
    level_db: float = Field(0.0, ge=-60.0, le=12.0)  # the accompaniment against the bed
    velocity: int = Field(80, ge=1, le=127)
    soundfont: Path | None = None  # None: BASSD_SOUNDFONT, then the usual places
    voices: int = Field(4, ge=3, le=6)
    low_note: int = Field(52, ge=24, le=96)  # the chord voicing's range (MIDI notes)
    high_note: int = Field(76, ge=30, le=108)
    bass: bool = True
    bass_low: int = Field(40, ge=21, le=72)  # E2: the master high-pass (120 Hz) spares it
    bass_high: int = Field(51, ge=24, le=84)
    # the decision: the Ear hears ear_window_beats before the decision point, which is
    # decide_before_s ahead of the downbeat; the predictor has already thought ahead
    ear_window_beats: float = Field(2.0, gt=0.0, le=16.0)
    decide_before_s: float = Field(0.05, ge=0.0, le=2.0)
    # on the predictor, the rest on the Ear; 0.8: best on validation pieces (bassd jam eval)
    fusion_weight: float = Field(0.8, ge=0.0, le=1.0)
    predictor: Path | None = None  # an LSTM checkpoint (.npz); None: the shipped one
    context: int = Field(8, ge=1, le=64)  # chords of history the predictor sees
    key_lock: str | None = None  # e.g. "G major": play in it whatever is heard
    key_profile: str = "aarden_essen"
    idle_bars: int = Field(4, ge=0, le=1000)  # stop chording after this many silent bars (0: never)
    thru: bool = False  # also sound the player's notes (offline renders of a MIDI file)
    thru_program: int = Field(0, ge=0, le=127)
    metronome: MetronomeConfig = MetronomeConfig()
    tempo_follow: TempoFollowConfig = TempoFollowConfig()
    link: bool = False  # Ableton Link: the tempo follows the Link session (the link extra)

    @field_validator("key_profile")
    @classmethod
    def _profile(cls, v: str) -> str:
        if v not in PROFILES:
            raise ValueError(f"unknown key profile {v!r}; one of {', '.join(sorted(PROFILES))}")
        return v

    @field_validator("key_lock")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        if v is not None:
            from bassd.dsp.harmonist import parse_key

            parse_key(v)
        return v

    @model_validator(mode="after")
    def _ranges(self) -> JamConfig:
        if self.high_note - self.low_note < 12:
            raise ValueError(
                f"low_note..high_note ({self.low_note}..{self.high_note}) must span an octave"
            )
        if self.bass_high - self.bass_low < 11:
            raise ValueError(
                f"bass_low..bass_high ({self.bass_low}..{self.bass_high}) must span an octave"
            )
        return self
