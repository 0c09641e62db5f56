"""Tests for the metronome click renderer (issue 8)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from bassd.dsp.beat_clock import BeatClock
from bassd.dsp.click import Click

SR = 48000
THRESH = 1e-3
SILENCE = 480  # 10 ms of sub-threshold audio before an onset


def render(
    bpm: float, meter: int, seconds: float, block: int, click: Click | None = None, start: int = 0
) -> tuple[npt.NDArray[np.float32], BeatClock]:
    clock = BeatClock(SR, bpm, meter, start_frame=start)
    click = click or Click(SR)
    total = int(seconds * SR)
    parts = []
    for f in range(0, total, block):
        n = min(block, total - f)
        parts.append(click.render(f, n, clock.beats_in(f, n)))
    return np.concatenate(parts), clock


def onsets(x: npt.NDArray[np.float32]) -> list[int]:
    idx = np.flatnonzero(np.abs(x[:, 0]) > THRESH)
    if idx.size == 0:
        return []
    keep = np.concatenate(([True], np.diff(idx) > SILENCE))
    return [int(i) for i in idx[keep]]


def centroid(x: npt.NDArray[np.float64]) -> float:
    spec = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1.0 / SR)
    return float((spec * freqs).sum() / spec.sum())


@pytest.mark.parametrize("bpm,start", [(120.0, 0), (97.0, 333)])
def test_onsets_in_audio_equal_beat_frames(bpm: float, start: int) -> None:
    """Over 20 s in 256-frame blocks, every click's measured onset is exactly its beat frame."""
    audio, clock = render(bpm, 4, 20.0, 256, start=start)
    expected = [f for f, _, _ in clock.beats_in(0, len(audio))]
    assert len(expected) > 30
    assert onsets(audio) == expected


def test_block_size_does_not_change_output() -> None:
    """Rendering in blocks of 256, 4096 and 1000 gives identical samples."""
    a, _ = render(97.0, 3, 20.0, 256)
    b, _ = render(97.0, 3, 20.0, 4096)
    c, _ = render(97.0, 3, 20.0, 1000)
    assert np.array_equal(a, b)
    assert np.array_equal(a, c)


def test_tail_crosses_block_boundary() -> None:
    """A click starting 10 frames before a block end continues into the next block."""
    click = Click(SR)
    first = click.render(0, 256, [(246, 1, False)])
    second = click.render(256, 256, [])
    assert np.abs(first[246:, 0]).max() > 0.1
    assert np.abs(second[:, 0]).max() > 0.05
    assert np.all(first[:246] == 0.0)


def test_output_shape_dtype_stereo() -> None:
    """render returns (frames, 2) float32 with identical channels."""
    out = Click(SR).render(0, 512, [(0, 0, True)])
    assert out.shape == (512, 2) and out.dtype == np.float32
    assert np.array_equal(out[:, 0], out[:, 1])


def test_accent_louder_and_higher() -> None:
    """The downbeat click has a higher peak, spectral centroid and zero-crossing rate."""
    n = int(0.03 * SR)
    normal = Click(SR).render(0, n, [(0, 1, False)])[:, 0].astype(np.float64)
    accent = Click(SR).render(0, n, [(0, 0, True)])[:, 0].astype(np.float64)
    assert np.abs(accent).max() == pytest.approx(np.abs(normal).max() * 10 ** (6 / 20), rel=1e-6)
    assert centroid(accent) > centroid(normal) + 500.0
    zcr = [np.count_nonzero(np.diff(np.signbit(x))) for x in (normal, accent)]
    assert zcr[1] > 1.5 * zcr[0]


def test_peak_is_onset_sample_and_level_db_scales() -> None:
    """The onset sample is the peak, 10**(level_db/20); changing level_db scales it."""
    for db in (-12.0, -6.0, -30.0):
        out = Click(SR, level_db=db).render(0, 2000, [(100, 1, False)])[:, 0]
        assert np.abs(out).max() == pytest.approx(10 ** (db / 20), rel=1e-6)
        assert int(np.argmax(np.abs(out))) == 100
    click = Click(SR)
    a = click.render(0, 2000, [(0, 1, False)])[:, 0]
    click.level_db = -24.0
    b = click.render(2000, 2000, [(2000, 2, False)])[:, 0]
    assert np.abs(b).max() == pytest.approx(np.abs(a).max() * 10 ** (-12 / 20), rel=1e-6)


def test_disabled_is_silent_apart_from_tail_fade() -> None:
    """Off: no new clicks; a ringing tail fades to zero within 2 ms, then silence."""
    click = Click(SR)
    click.render(0, 256, [(200, 0, True)])  # ringing
    click.enabled = False
    out = click.render(256, 4096, [(1000, 1, False), (3000, 2, False)])[:, 0]
    fade = round(0.002 * SR)
    assert np.abs(out[:4]).max() > 0.05  # tail continues (no hard cut) ...
    assert np.all(np.abs(np.diff(out[: fade + 1])) < 0.2)  # ... smoothly
    assert np.all(out[fade:] == 0.0)  # then silence: the beats produced nothing
    assert not click.ringing
    assert np.all(click.render(4352, 48000, [(10000, 3, True)]) == 0.0)


def test_disabled_without_tail_is_all_zeros() -> None:
    """Off with nothing ringing gives exact zeros even when beats are due."""
    click = Click(SR, level_db=0.0)
    click.enabled = False
    assert np.all(click.render(0, 4096, [(0, 0, True), (100, 1, False)]) == 0.0)


def test_reenable_clicks_again() -> None:
    """After re-enabling, beats click again at their frames."""
    click = Click(SR)
    click.enabled = False
    click.render(0, 1024, [(10, 0, True)])
    click.enabled = True
    out = click.render(1024, 4096, [(2000, 1, False)])
    assert onsets(out) == [2000 - 1024]


@pytest.mark.parametrize("db", [float("nan"), 3.0])
def test_bad_level_raises_naming_value(db: float) -> None:
    """level_db that is not finite or above 0 dBFS raises ValueError naming it."""
    with pytest.raises(ValueError, match=f"level_db {db!r}"):
        Click(SR, level_db=db)
