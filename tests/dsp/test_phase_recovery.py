"""Griffin-Lim and the chunked vocoder: convergence, streaming exactness, seamless joins."""

from __future__ import annotations

import numpy as np
import pytest

from bassd.dsp.mel import MelSpec, stft
from bassd.dsp.phase_recovery import FAST_MOMENTUM, ChunkVocoder, griffin_lim
from bassd.dsp.spectral_distance import spectral_convergence

SPEC = MelSpec()
SR = SPEC.sample_rate
CHUNK = 20  # frames per chunk


def _tone(seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return 0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 880 * t + 1.0)


def _chunked(mag: np.ndarray, voc: ChunkVocoder) -> tuple[np.ndarray, list[int]]:
    """Concatenated stream and the sample positions where chunk outputs meet."""
    outs = [voc.synthesise(mag[:, i : i + CHUNK]) for i in range(0, mag.shape[1], CHUNK)]
    outs.append(voc.flush())
    return np.concatenate(outs), np.cumsum([len(o) for o in outs])[:-1].tolist()


def _seam_report(y: np.ndarray, joins: list[int]) -> tuple[float, float, float]:
    """(max step near joins / max step elsewhere, worst 10 ms rms dip at joins in dB vs the
    median elsewhere, same dip anywhere), over the stream without its first/last 2048."""
    n, reach = len(y), SPEC.n_fft // 2
    near = np.zeros(n, dtype=bool)
    for b in joins:
        near[max(0, b - reach) : b + reach] = True
    core = np.zeros(n, dtype=bool)
    core[2048 : n - 2048] = True
    step = np.abs(np.diff(y))  # step[i] = |y[i+1] - y[i]|
    ratio = step[(near & core)[1:]].max() / step[(~near & core)[1:]].max()
    win = SR // 100
    m = n // win
    rms_db = 10 * np.log10(np.mean(y[: m * win].reshape(m, win) ** 2, axis=1))
    w_near = near[: m * win].reshape(m, win).any(axis=1)
    w_core = core[: m * win].reshape(m, win).all(axis=1)
    ref = np.median(rms_db[~w_near & w_core])
    return ratio, ref - rms_db[w_near & w_core].min(), ref - rms_db[w_core].min()


def test_griffin_lim_converges_and_fast_is_faster() -> None:
    """Spectral convergence falls with iterations; momentum 0.99 beats plain GL at 16."""
    x = _tone(1.0)
    mag = np.abs(stft(x, SPEC))
    sc = {
        (n, m): spectral_convergence(x, griffin_lim(mag, SPEC, n_iter=n, momentum=m), SPEC)
        for n in (2, 16)
        for m in (0.0, FAST_MOMENTUM)
    }
    assert sc[(16, 0.0)] < sc[(2, 0.0)]
    assert sc[(16, FAST_MOMENTUM)] < sc[(16, 0.0)]


def test_griffin_lim_init_and_length() -> None:
    """The true phase as init is a fixed point; seeds are reproducible; length is honoured."""
    x = _tone(0.5)
    X = stft(x, SPEC)
    y = griffin_lim(np.abs(X), SPEC, n_iter=4, init=np.angle(X), length=len(x))
    np.testing.assert_allclose(y, x, atol=1e-8)
    a = griffin_lim(np.abs(X), SPEC, n_iter=3, seed=5)
    np.testing.assert_array_equal(a, griffin_lim(np.abs(X), SPEC, n_iter=3, seed=5))
    assert not np.array_equal(a, griffin_lim(np.abs(X), SPEC, n_iter=3, seed=6))
    assert griffin_lim(np.abs(X), SPEC, n_iter=1, init="zero", length=100).shape == (100,)
    with pytest.raises(ValueError, match="init"):
        griffin_lim(np.abs(X), SPEC, init=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="momentum"):
        griffin_lim(np.abs(X), SPEC, momentum=-0.1)


def test_single_chunk_stream_equals_griffin_lim() -> None:
    """One chunk plus flush is exactly griffin_lim's overlap-add, plus the tail it reaches."""
    mag = np.abs(stft(_tone(0.5), SPEC))
    voc = ChunkVocoder(SPEC, n_iter=8, momentum=FAST_MOMENTUM, seed=3)
    y = np.concatenate([voc.synthesise(mag), voc.flush()])
    ref = griffin_lim(mag, SPEC, n_iter=8, momentum=FAST_MOMENTUM, seed=3)
    assert len(y) == len(ref) + SPEC.n_fft // 2
    np.testing.assert_allclose(y[: len(ref)], ref, atol=1e-9)


def test_chunk_outputs_keep_a_steady_rate() -> None:
    """After the first chunk each chunk returns T * hop samples; the stream totals
    (F - 1) * hop + n_fft / 2 samples for F frames."""
    mag = np.abs(stft(_tone(1.0), SPEC))
    voc = ChunkVocoder(SPEC, n_iter=2)
    lens = [len(voc.synthesise(mag[:, i : i + CHUNK])) for i in range(0, 80, CHUNK)]
    assert lens[0] == CHUNK * SPEC.hop - voc.latency
    assert lens[1:] == [CHUNK * SPEC.hop] * 3
    total = sum(lens) + len(voc.flush())
    assert total == 79 * SPEC.hop + SPEC.n_fft // 2


def test_chunked_stationary_tone_has_no_seams() -> None:
    """Fast GL in 20-frame chunks: steps at joins <= 1.5x elsewhere, no 10 ms dip > 3 dB."""
    x = _tone()
    mag = np.abs(stft(x, SPEC))
    y, out_joins = _chunked(mag, ChunkVocoder(SPEC, n_iter=32, momentum=FAST_MOMENTUM))
    frame_joins = [k * SPEC.hop for k in range(CHUNK, mag.shape[1], CHUNK)]
    ratio, dip, _ = _seam_report(y[: len(x)], out_joins + frame_joins)
    assert ratio <= 1.5
    assert dip <= 3.0
    assert spectral_convergence(x, y, SPEC) < 0.2


def test_seam_check_catches_independent_chunks() -> None:
    """Control: chunks vocoded separately and butted together fail the same seam check."""
    x = _tone()
    mag = np.abs(stft(x, SPEC))
    parts = [
        griffin_lim(
            mag[:, i : i + CHUNK],
            SPEC,
            n_iter=32,
            momentum=FAST_MOMENTUM,
            seed=i,
            length=CHUNK * SPEC.hop,
        )
        for i in range(0, mag.shape[1], CHUNK)
    ]
    y = np.concatenate(parts)[: len(x)]
    joins = [k * CHUNK * SPEC.hop for k in range(1, len(parts))]
    ratio, dip, _ = _seam_report(y, joins)
    assert ratio > 1.5 or dip > 3.0
