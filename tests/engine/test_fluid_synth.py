"""Tests for the FluidSynth GM voice and SoundFont lookup (the accompanist's instrument)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from bassd.engine import fluid_synth
from bassd.engine.fluid_synth import FluidVoice, SoundFontNotFound, find_soundfont

SR = 48000
SILENT = 1e-4  # a few LSBs of 16-bit dither


def _soundfont_or_skip() -> Path:
    try:
        import fluidsynth  # noqa: F401
    except (ImportError, OSError) as exc:
        pytest.skip(f"libfluidsynth unavailable: {exc}")
    try:
        return find_soundfont()
    except SoundFontNotFound as exc:
        pytest.skip(str(exc))


@pytest.fixture
def voice() -> Iterator[FluidVoice]:
    v = FluidVoice(SR, _soundfont_or_skip())
    yield v
    v.close()


def peak(x: npt.NDArray[np.float32]) -> float:
    return float(np.abs(x).max()) if x.size else 0.0


def test_note_on_sounds_at_engine_rate(voice: FluidVoice) -> None:
    """A piano note-on gives non-silent float32 stereo audio in [-1, 1] with the requested frames."""
    voice.program(0, 0)
    voice.note_on(0, 60, 100)
    x = voice.render(SR // 10)
    assert x.shape == (SR // 10, 2)
    assert x.dtype == np.float32
    assert peak(x) > 0.01
    assert peak(x) <= 1.0
    assert voice.sounding() >= 1


def test_pitch_follows_sample_rate() -> None:
    """A4's strongest partial is a harmonic of 440 Hz at 48 kHz, so the sample rate is honoured."""
    v = FluidVoice(SR, _soundfont_or_skip())
    v.program(0, 19)  # church organ: a clear steady fundamental
    v.note_on(0, 69, 100)
    v.render(SR // 4)
    x = v.render(SR)[:, 0].astype(np.float64)
    v.close()
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1.0 / SR)
    harmonics = [440.0 * k for k in range(1, 6)]
    strongest = float(freqs[int(np.argmax(spec))])
    # within 2 %: a wrong rate (44.1 vs 48 kHz) would be 8.8 % off
    assert min(abs(strongest / h - 1.0) for h in harmonics) < 0.02


def test_same_calls_render_identical_samples() -> None:
    """Two voices fed the same events render bit-identical arrays."""
    sf = _soundfont_or_skip()

    def play() -> npt.NDArray[np.float32]:
        v = FluidVoice(SR, sf)
        v.program(0, 48)
        v.program(1, 33)
        parts = []
        v.note_on(0, 60, 90)
        v.note_on(0, 64, 90)
        parts.append(v.render(1000))
        v.note_on(1, 36, 110)
        parts.append(v.render(256))
        v.note_off(0, 60)
        parts.append(v.render(7000))
        v.all_notes_off()
        parts.append(v.render(4800))
        v.close()
        return np.concatenate(parts)

    a, b = play(), play()
    assert peak(a) > 0.01
    np.testing.assert_array_equal(a, b)


def test_note_off_decays_to_silence(voice: FluidVoice) -> None:
    """After note_off the voice's release ends in silence and no voices remain."""
    voice.program(0, 0)
    voice.note_on(0, 60, 100)
    voice.render(4800)
    voice.note_off(0, 60)
    for _ in range(40):  # up to 4 s of release
        voice.render(4800)
    assert peak(voice.render(4800)) < SILENT
    assert voice.sounding() == 0


def test_all_notes_off_silences_sustained_notes_on_every_channel(voice: FluidVoice) -> None:
    """all_notes_off() with the sustain pedal down on two channels still decays to silence."""
    for ch, prog in ((0, 0), (3, 48)):
        voice.program(ch, prog)
        voice.note_on(ch, 60, 100)
        voice.note_on(ch, 67, 100)
    voice._live().cc(0, 64, 127)  # sustain pedal down
    voice._live().cc(3, 64, 127)
    voice.render(4800)
    voice.all_notes_off()
    for _ in range(40):
        voice.render(4800)
    assert peak(voice.render(4800)) < SILENT
    assert voice.sounding() == 0


def test_all_notes_off_one_channel_leaves_others(voice: FluidVoice) -> None:
    """all_notes_off(channel) releases that channel only; a held note elsewhere keeps sounding."""
    voice.program(0, 19)  # organ: sustains while held
    voice.program(1, 19)
    voice.note_on(0, 60, 100)
    voice.note_on(1, 67, 100)
    voice.render(4800)
    voice.all_notes_off(0)
    for _ in range(20):
        voice.render(4800)
    assert peak(voice.render(4800)) > 0.01
    voice.all_notes_off(1)
    for _ in range(20):
        voice.render(4800)
    assert peak(voice.render(4800)) < SILENT


def test_render_zero_frames(voice: FluidVoice) -> None:
    """render(0) returns an empty (0, 2) float32 array."""
    x = voice.render(0)
    assert x.shape == (0, 2)
    assert x.dtype == np.float32


@pytest.mark.parametrize("program", [-1, 128])
def test_bad_program_raises(voice: FluidVoice, program: int) -> None:
    """A GM program outside 0..127 raises ValueError naming the program."""
    with pytest.raises(ValueError, match="program"):
        voice.program(0, program)


def test_missing_preset_raises(voice: FluidVoice) -> None:
    """A bank the SoundFont does not have raises ValueError."""
    with pytest.raises(ValueError, match="bank 77"):
        voice.program(0, 5, bank=77)


def test_closed_voice_raises(voice: FluidVoice) -> None:
    """After close(), render raises RuntimeError and close() again is harmless."""
    voice.close()
    voice.close()
    with pytest.raises(RuntimeError, match="closed"):
        voice.render(16)


def test_explicit_missing_soundfont_names_it(tmp_path: Path) -> None:
    """An explicit path that does not exist raises SoundFontNotFound naming that path."""
    missing = tmp_path / "nope.sf2"
    with pytest.raises(SoundFontNotFound, match=r"nope\.sf2"):
        find_soundfont(missing)
    with pytest.raises(SoundFontNotFound):
        FluidVoice(SR, missing)


def test_no_soundfont_lists_every_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing installed, the error lists each searched place and the apt package."""
    places = (str(tmp_path / "a" / "TimGM6mb.sf2"), str(tmp_path / "b" / "*.sf2"))
    monkeypatch.setattr(fluid_synth, "SEARCH_PLACES", places)
    monkeypatch.delenv("BASSD_SOUNDFONT", raising=False)
    with pytest.raises(SoundFontNotFound) as info:
        find_soundfont()
    message = str(info.value)
    for place in places:
        assert place in message
    assert "apt install timgm6mb-soundfont" in message
    assert isinstance(info.value, FileNotFoundError)


def test_search_order_env_then_places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$BASSD_SOUNDFONT wins over the places; else the first existing place (globs sorted)."""
    (tmp_path / "b").mkdir()
    for name in ("z.sf2", "m.sf2"):
        (tmp_path / "b" / name).write_bytes(b"")
    places = (str(tmp_path / "a" / "TimGM6mb.sf2"), str(tmp_path / "b" / "*.sf2"))
    monkeypatch.setattr(fluid_synth, "SEARCH_PLACES", places)
    monkeypatch.delenv("BASSD_SOUNDFONT", raising=False)
    assert find_soundfont() == tmp_path / "b" / "m.sf2"
    env_font = tmp_path / "env.sf2"
    env_font.write_bytes(b"")
    monkeypatch.setenv("BASSD_SOUNDFONT", str(env_font))
    assert find_soundfont() == env_font
    monkeypatch.setenv("BASSD_SOUNDFONT", str(tmp_path / "gone.sf2"))
    with pytest.raises(SoundFontNotFound, match=r"gone\.sf2"):
        find_soundfont()


def test_missing_library_is_a_clear_runtime_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the fluidsynth binding cannot load libfluidsynth, the error says what to install."""
    import builtins

    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "fluidsynth":
            raise ImportError("Couldn't find the FluidSynth library.")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(RuntimeError, match="apt install libfluidsynth3"):
        fluid_synth._load_fluidsynth()
