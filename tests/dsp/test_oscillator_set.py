"""Oscillator sets: tracks merged on the grid, levels and stability kept, JSON round trip."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.oscillator_set import OscillatorSet, PaletteBuilder
from bassd.dsp.partial_tracks import Partial

FRAME_S = 1024 / 22_050


def _track(freq: float, db: float, start: float, n: int, wobble_cents: float = 0.0) -> Partial:
    t = start + FRAME_S * np.arange(n)
    dev = wobble_cents * np.sin(2 * np.pi * 5 * t)
    return Partial(t, freq * 2 ** (dev / 1200), np.full(n, db))


def _set(builder: PaletteBuilder, frames: int = 200, **kw: float) -> OscillatorSet:
    return builder.finish(name="t", sources=["a.wav"], duration_s=frames * FRAME_S,
                          total_frames=frames, **kw)  # type: ignore[arg-type]  # fmt: skip


def test_tracks_of_one_partial_merge_and_distinct_ones_do_not() -> None:
    """Three tracks 2 cents apart become one partial (their tracks counted, presence summed);
    a partial 25 cents away stays separate."""
    b = PaletteBuilder(FRAME_S)
    for k, start in enumerate((0.0, 3.0, 6.0)):
        b.add(_track(440.0 * 2 ** (k / 1200), -20.0, start, 50))
    b.add(_track(440.0 * 2 ** (25 / 1200), -30.0, 0.0, 150))
    s = _set(b)
    assert len(s) == 2
    main = s.partials[0]
    assert main.tracks == 3 and abs(1200 * np.log2(main.freq_hz / 440.0) - 1.0) < 1.0
    assert main.presence == pytest.approx(0.75)
    assert main.amp_db == pytest.approx(-20.0) and main.onset_s == 0.0


def test_stability_and_the_level_floor() -> None:
    """A wobbling track is unstable with its spread in cents; a partial 70 dB below the
    loudest, or sounding for under 2% of the time, is left out."""
    b = PaletteBuilder(FRAME_S)
    b.add(_track(300.0, -10.0, 0.0, 200, wobble_cents=20.0))
    b.add(_track(900.0, -80.0, 0.0, 200))  # too quiet
    b.add(_track(1500.0, -20.0, 0.0, 3))  # too brief (1.5 %)
    s = _set(b)
    assert [round(p.freq_hz) for p in s.partials] == [300]
    assert not s.partials[0].stable
    assert 10.0 < s.partials[0].freq_std_cents < 20.0  # ~20/sqrt(2)


def test_suggested_coupling_follows_the_stable_share() -> None:
    """A band of stable partials gets K/Kc 2, one of wandering partials 0.5; the bank's
    weights are their ratio with mean 1."""
    b = PaletteBuilder(FRAME_S)
    b.add(_track(100.0, -10.0, 0.0, 200))
    b.add(_track(1000.0, -10.0, 0.0, 200, wobble_cents=30.0))
    s = _set(b)
    by = {band.label: band for band in s.bands}
    assert by["20-250"].coupling == pytest.approx(2.0)
    assert by["250-2000"].coupling == pytest.approx(0.5)
    np.testing.assert_allclose(s.coupling_weights(), [1.6, 0.4])


def test_nothing_found_is_an_error() -> None:
    """No tracks, or only ones under the floor, raise ValueError saying so."""
    with pytest.raises(ValueError, match="no partials"):
        _set(PaletteBuilder(FRAME_S))
    b = PaletteBuilder(FRAME_S)
    b.add(_track(500.0, -20.0, 0.0, 2))
    with pytest.raises(ValueError, match="no partial sounded"):
        _set(b)


def test_json_round_trip_and_bad_files() -> None:
    """to_dict/from_dict round-trips exactly; a wrong format, version, a missing or unknown
    field, a wrong type or an impossible frequency is a ValueError naming it."""
    b = PaletteBuilder(FRAME_S)
    b.add(_track(220.0, -12.0, 0.0, 100))
    b.add(_track(330.0, -18.0, 0.0, 100, wobble_cents=12.0))
    s = _set(b, settings={"n_fft": 4096})  # type: ignore[arg-type]
    d = s.to_dict()
    assert OscillatorSet.from_dict(d) == s
    import copy
    import json

    assert OscillatorSet.from_dict(json.loads(json.dumps(d))) == s
    cases = [
        ({**d, "format": "x"}, "not an oscillator set"),
        ({**d, "version": 9}, "version 9"),
        ({k: v for k, v in d.items() if k != "sources"}, "missing 'sources'"),
        ({**d, "partials": []}, "no partials"),
    ]
    bad = copy.deepcopy(d)
    bad["partials"][0]["freq_hz"] = "loud"
    cases.append((bad, r"partials\[0\].freq_hz: not a float"))
    bad = copy.deepcopy(d)
    bad["partials"][1]["colour"] = 1
    cases.append((bad, r"unknown \['colour'\]"))
    bad = copy.deepcopy(d)
    bad["partials"][0]["freq_hz"] = 1e6
    cases.append((bad, "out of range"))
    for data, message in cases:
        with pytest.raises(ValueError, match=message):
            OscillatorSet.from_dict(data)
