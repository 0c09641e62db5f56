"""A General MIDI voice for the accompanist: FluidSynth rendering into bassd's own mix.

:class:`FluidVoice` wraps one FluidSynth synthesizer (through pyfluidsynth's ctypes binding,
imported lazily so that importing this module never needs libfluidsynth). Audio is pulled
with :meth:`FluidVoice.render` -- FluidSynth's own float32 output (``fluid_synth_write_float``
through pyfluidsynth's library handle, written straight into the block; pyfluidsynth's
``get_samples`` is its 16-bit twin, which dithers: a noise floor in silence and 16 bits in a
24-bit mix) -- and never through FluidSynth's own audio driver: the engine's callback owns
the device. The same sequence of calls always gives the same samples (FluidSynth renders
sample-exactly from its event queue), and silence is exactly zero.

:func:`find_soundfont` locates a GM SoundFont: an explicit path, else ``$BASSD_SOUNDFONT``,
else the first existing file of :data:`SEARCH_PLACES` (the Debian/Ubuntu, Fedora/Arch and
Homebrew locations).
"""

from __future__ import annotations

import contextlib
import glob
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

ENV_VAR = "BASSD_SOUNDFONT"

SEARCH_PLACES: tuple[str, ...] = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/*.sf2",
    "/usr/local/share/soundfonts/*.sf2",
    "/usr/local/share/fluid-synth/*.sf2",
    "/opt/homebrew/share/soundfonts/*.sf2",
    "/opt/homebrew/share/fluid-synth/*.sf2",
    "~/Library/Audio/Sounds/Banks/*.sf2",
)
"""Where :func:`find_soundfont` looks, in order; a ``*`` entry is a glob, its matches sorted."""

INSTALL_HINT = (
    "install a General MIDI SoundFont (Debian/Ubuntu: `apt install timgm6mb-soundfont` or "
    "`apt install fluid-soundfont-gm`; macOS: `brew install fluid-synth` and put an .sf2 in "
    f"~/Library/Audio/Sounds/Banks) or set ${ENV_VAR}"
)

CHANNELS = 16
DRUM_CHANNEL = 9
DRUM_BANK = 128

_CC_SUSTAIN = 64
_CC_SOSTENUTO = 66
_CC_ALL_NOTES_OFF = 123


class SoundFontNotFound(FileNotFoundError):
    """No usable SoundFont file; the message names every place that was tried."""


def _expand(place: str) -> list[Path]:
    pattern = os.path.expanduser(place)
    if any(c in pattern for c in "*?["):
        return [Path(p) for p in sorted(glob.glob(pattern))]
    return [Path(pattern)]


def find_soundfont(path: str | Path | None = None) -> Path:
    """The SoundFont to load: ``path``, else ``$BASSD_SOUNDFONT``, else the first of SEARCH_PLACES.

    An explicit path or the environment variable must name an existing file (no fallback to
    the search: a typo should not silently pick another instrument set).
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise SoundFontNotFound(
                f"SoundFont {str(path)!r} does not exist or is not a file; {INSTALL_HINT}"
            )
        return p
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise SoundFontNotFound(
                f"${ENV_VAR}={env!r} does not exist or is not a file; {INSTALL_HINT}"
            )
        return p
    for place in SEARCH_PLACES:
        for candidate in _expand(place):
            if candidate.is_file():
                return candidate
    searched = "\n  ".join(SEARCH_PLACES)
    raise SoundFontNotFound(
        f"no SoundFont found (${ENV_VAR} is unset); searched:\n  {searched}\n{INSTALL_HINT}"
    )


def _load_fluidsynth() -> Any:
    try:
        import fluidsynth
    except (ImportError, OSError) as exc:
        raise RuntimeError(
            "FluidSynth is not available "
            f"({exc}); install the library (Debian/Ubuntu: `apt install libfluidsynth3`; "
            "macOS: `brew install fluid-synth`) and the pyfluidsynth package"
        ) from exc
    return fluidsynth


def _write_float(fluidsynth: Any) -> Any:
    """``fluid_synth_write_float`` from pyfluidsynth's loaded library (None if absent)."""
    from ctypes import c_int, c_void_p

    cfunc = getattr(fluidsynth, "cfunc", None)
    if cfunc is None:
        return None
    ptr = ("synth", c_void_p, 1), ("len", c_int, 1)
    buf = ("lout", c_void_p, 1), ("loff", c_int, 1), ("lincr", c_int, 1)
    rbuf = ("rout", c_void_p, 1), ("roff", c_int, 1), ("rincr", c_int, 1)
    return cfunc("fluid_synth_write_float", c_int, *ptr, *buf, *rbuf)


def _channels(channel: int | None) -> range | tuple[int]:
    """Every channel (None) or the one given, checked."""
    if channel is None:
        return range(CHANNELS)
    return (_check_int("channel", channel, 0, CHANNELS - 1),)


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} {value} out of range {lo}..{hi}")
    return int(value)


class FluidVoice:
    """One FluidSynth synthesizer with a loaded GM SoundFont, 16 MIDI channels, pulled audio."""

    block = 64
    """FluidSynth's internal block (FLUID_BUFSIZE): a note event takes effect at the start
    of its next block, so a caller wanting sample-exact onsets calls at multiples of it."""

    def __init__(
        self,
        sample_rate: int,
        soundfont: str | Path | None = None,
        *,
        gain: float = 0.5,
        polyphony: int = 64,
        reverb: bool = False,
        chorus: bool = False,
    ) -> None:
        """Load ``soundfont`` (see :func:`find_soundfont`) into a synth running at ``sample_rate``.

        ``gain`` is FluidSynth's master gain (0..10; 0.5 leaves headroom for a few notes),
        ``polyphony`` its voice limit; reverb and chorus are off by default (the engine's
        own post-processing is the place for room).
        """
        self.sample_rate = _check_int("sample_rate", sample_rate, 8000, 384000)
        _check_int("polyphony", polyphony, 1, 65535)
        if not isinstance(gain, int | float) or isinstance(gain, bool) or not 0.0 <= gain <= 10.0:
            raise ValueError(f"gain must be a number in 0..10, got {gain!r}")
        self.soundfont = find_soundfont(soundfont)
        fluidsynth = _load_fluidsynth()
        self._fs = fluidsynth
        settings: dict[str, Any] = {
            "synth.polyphony": int(polyphony),
            "synth.reverb.active": int(bool(reverb)),
            "synth.chorus.active": int(bool(chorus)),
        }
        # pyfluidsynth applies extra settings before it creates the synth, as FluidSynth needs
        synth = fluidsynth.Synth(
            gain=float(gain), samplerate=float(sample_rate), channels=CHANNELS, **settings
        )
        sfid = synth.sfload(str(self.soundfont))
        if sfid < 0:
            synth.delete()
            raise RuntimeError(f"FluidSynth could not load SoundFont {str(self.soundfont)!r}")
        self._synth: Any = synth
        self._sfid = int(sfid)
        self._held: set[tuple[int, int]] = set()
        for ch in range(CHANNELS):
            bank = DRUM_BANK if ch == DRUM_CHANNEL else 0
            synth.program_select(ch, self._sfid, bank, 0)
        self._has_voice_count = bool(
            getattr(fluidsynth, "fluid_synth_get_active_voice_count", None)
        )
        self._write_float = _write_float(fluidsynth)

    # -- MIDI -------------------------------------------------------------------------------

    def _live(self) -> Any:
        if self._synth is None:
            raise RuntimeError("FluidVoice is closed")
        return self._synth

    def program(self, channel: int, program: int, bank: int = 0) -> None:
        """Select GM ``program`` (0..127) of ``bank`` on ``channel``; ValueError if absent."""
        ch = _check_int("channel", channel, 0, CHANNELS - 1)
        prog = _check_int("program", program, 0, 127)
        bnk = _check_int("bank", bank, 0, 16383)
        if self._live().program_select(ch, self._sfid, bnk, prog) != 0:
            raise ValueError(
                f"SoundFont {self.soundfont.name} has no preset bank {bnk} program {prog}"
            )

    def note_on(self, channel: int, note: int, velocity: int) -> None:
        """Start ``note`` (0..127) on ``channel`` (0..15); velocity 0 is a note-off, as in MIDI."""
        ch = _check_int("channel", channel, 0, CHANNELS - 1)
        n = _check_int("note", note, 0, 127)
        v = _check_int("velocity", velocity, 0, 127)
        synth = self._live()
        if v == 0:
            synth.noteoff(ch, n)
            self._held.discard((ch, n))
            return
        synth.noteon(ch, n, v)
        self._held.add((ch, n))

    def note_off(self, channel: int, note: int) -> None:
        """Release ``note`` on ``channel`` (its voices decay through their release)."""
        ch = _check_int("channel", channel, 0, CHANNELS - 1)
        n = _check_int("note", note, 0, 127)
        self._live().noteoff(ch, n)
        self._held.discard((ch, n))

    def all_notes_off(self, channel: int | None = None) -> None:
        """Release every note of ``channel`` (all channels when None), pedals included.

        Sustain and sostenuto are lifted first (CC64/CC66 = 0), so pedal-held voices are
        released too, then CC123 (All Notes Off) releases every key: all voices then decay
        through their release envelopes to silence.
        """
        channels = _channels(channel)
        synth = self._live()
        for ch in channels:
            synth.cc(ch, _CC_SUSTAIN, 0)
            synth.cc(ch, _CC_SOSTENUTO, 0)
            synth.cc(ch, _CC_ALL_NOTES_OFF, 0)
            synth.all_notes_off(ch)
        self._held = {k for k in self._held if k[0] not in channels}

    def all_sounds_off(self, channel: int | None = None) -> None:
        """Cut every voice of ``channel`` (all when None) at once, without release (panic)."""
        channels = _channels(channel)
        synth = self._live()
        for ch in channels:
            synth.cc(ch, _CC_SUSTAIN, 0)
            synth.cc(ch, _CC_SOSTENUTO, 0)
            synth.all_sounds_off(ch)
        self._held = {k for k in self._held if k[0] not in channels}

    # -- audio ------------------------------------------------------------------------------

    def render(self, frames: int) -> npt.NDArray[np.float32]:
        """The next ``frames`` frames of audio, shape (frames, 2), float32 in [-1, 1)."""
        n = _check_int("frames", frames, 0, 1 << 24)
        synth = self._live()
        if n == 0:
            return np.zeros((0, 2), dtype=np.float32)
        out = np.zeros((n, 2), dtype=np.float32)
        if self._write_float is None:  # a binding without the symbol: the 16-bit path
            raw = synth.get_samples(n)  # int16, interleaved L R
            out[:] = np.asarray(raw, dtype=np.float32).reshape(n, 2) * np.float32(1 / 32768)
            return out
        ptr = out.ctypes.data
        # left samples at 0, 2, 4 ... and right at 1, 3, 5 ... of the interleaved block
        if self._write_float(synth.synth, n, ptr, 0, 2, ptr, 1, 2) != 0:
            raise RuntimeError("fluid_synth_write_float failed")
        return out

    def sounding(self) -> int:
        """FluidSynth's active voice count (releasing ones included); else the held notes."""
        synth = self._live()
        if self._has_voice_count:
            return int(synth.get_active_voice_count())
        return len(self._held)

    def close(self) -> None:
        """Free the synthesizer (idempotent); later calls other than close raise RuntimeError."""
        synth, self._synth = self._synth, None
        if synth is not None:
            synth.delete()

    def __enter__(self) -> FluidVoice:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_synth", None) is not None:
            with contextlib.suppress(Exception):  # at interpreter exit the binding may be gone
                self.close()
