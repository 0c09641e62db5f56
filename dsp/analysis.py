"""The analysis of recordings into an oscillator set and map material, in one streaming pass.

Per STFT frame of each recording (mono, at the analysis rate): the peaks
(prominence, parabolic interpolation), the tracker (closed tracks go straight into
the :class:`~bassd.dsp.oscillator_set.PaletteBuilder` and are dropped), and the
frame's share of its *region* (``region_s`` of audio: the rows of the map): the
region's mean power spectrum (reduced to features when the region ends) and the
energy of its peaks on the palette's grid.
What is kept grows only with the number of regions (two small vectors each, about
2 MB per hour at the defaults), plus a decimated image of the spectrogram and the
strongest tracks, thinned, for the PNG; never the audio or the spectrogram.

:meth:`Analysis.finish` merges the grid into the set, then reads every region's
peaks as amplitudes of the set's partials (the map's payload: a node's sound
state) and computes the region's features (chroma, spectral envelope, loudness,
centroid, flatness, and the set's own statistics: how many of its partials sound
and where) for training the map.

No I/O here: the caller hands each recording in as an iterable of mono chunks.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import numpy.typing as npt

from bassd.dsp.frame_features import FeatureSpec, feature_names, frame_features
from bassd.dsp.oscillator_set import OscillatorSet, PaletteBuilder
from bassd.dsp.partial_tracks import Partial, PartialTracker
from bassd.dsp.spectral_peaks import iter_stft, n_frames, peak_arrays, to_db

FloatArray = npt.NDArray[np.float64]

SILENCE_DBFS = -80.0  # a recording whose loudest sample is below this is silent


class SilentRecording(ValueError):
    """A recording with nothing to analyse (its peak level is in the message)."""


@dataclass(frozen=True)
class AnalysisSettings:
    """How recordings are analysed (all written into the set's ``settings``)."""

    sample_rate: int = 22_050
    n_fft: int = 4096  # 186 ms at 22.05 kHz: 5.4 Hz bins, low partials resolved
    hop: int = 1024
    min_prominence_db: float = 10.0
    max_peaks: int = 64
    floor_db: float = -90.0  # peaks below this level (dB re full scale) are ignored
    # and so are peaks less than this far above the frame's median level: the noise floor
    # (white noise's local maxima almost never reach its median + 15 dB; partials do)
    min_snr_db: float = 15.0
    # and peaks more than this far below the frame's loudest bin (masked; a lossy codec's
    # artefacts on a clean recording sit 55-65 dB down)
    frame_range_db: float = 50.0
    max_jump_cents: float = 50.0
    max_gap_frames: int = 2
    min_length_frames: int = 5
    max_length_frames: int = 1024  # ~47 s: a held tone is cut into tracks this long
    region_s: float = 0.5
    max_partials: int = 128
    merge_cents: float = 15.0
    level_floor_db: float = 60.0  # partials this far below the loudest are left out
    min_presence: float = 0.02
    plot_columns: int = 1200
    plot_rows: int = 480
    plot_tracks: int = 1500

    def __post_init__(self) -> None:
        if self.n_fft < 256 or self.hop < 1 or self.hop > self.n_fft:
            raise ValueError("need n_fft >= 256 and 1 <= hop <= n_fft")
        if self.region_s * self.sample_rate < self.hop:
            raise ValueError("a region must hold at least one frame")

    @property
    def frame_s(self) -> float:
        return self.hop / self.sample_rate

    @property
    def frames_per_region(self) -> int:
        return max(1, round(self.region_s / self.frame_s))


@dataclass
class RecordingResult:
    """What the map and the PNG need of one recording (its regions and pictures)."""

    source: str
    label: int
    frames: int
    duration_s: float
    peak_dbfs: float
    region_features: FloatArray  # (R, D) features of each region's mean spectrum
    region_bins: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]  # per region
    image_db: FloatArray  # (plot_rows, columns) max-pooled spectrogram, dB
    image_hz: FloatArray  # (plot_rows,) the rows' frequencies
    image_s: float  # seconds per column
    tracks: list[tuple[FloatArray, FloatArray]] = field(default_factory=list)  # (times, freqs)


class Analysis:
    """Recordings in, one oscillator set and the map's material out (see the module)."""

    def __init__(self, settings: AnalysisSettings | None = None) -> None:
        self.settings = s = settings or AnalysisSettings()
        self.palette = PaletteBuilder(s.frame_s)
        self.spec = FeatureSpec(sr=s.sample_rate, n_fft=s.n_fft)
        self.recordings: list[RecordingResult] = []

    def add_recording(
        self, source: str, chunks: Iterable[npt.ArrayLike], *, expected_samples: int | None = None
    ) -> RecordingResult:
        """Analyse one recording (mono chunks at ``settings.sample_rate``); SilentRecording
        if its peak level is below ``SILENCE_DBFS``, ValueError if it is shorter than a frame."""
        s = self.settings
        label = len(self.recordings)
        peak = [0.0]

        def watched() -> Iterable[FloatArray]:
            for c in chunks:
                a = np.asarray(c, dtype=np.float64)
                if a.size:
                    peak[0] = max(peak[0], float(np.max(np.abs(a))))
                yield a

        expected = n_frames(expected_samples, s.n_fft, s.hop) if expected_samples else None
        rec = _RecordingPass(s, self.palette, self.spec, expected)
        for t, mag in iter_stft(watched(), s.sample_rate, n_fft=s.n_fft, hop=s.hop):
            rec.frame(t, mag)
        rec.close()
        peak_dbfs = 20.0 * math.log10(peak[0]) if peak[0] > 0 else -math.inf
        if peak_dbfs < SILENCE_DBFS:
            raise SilentRecording(f"silent (peak {peak_dbfs:.1f} dBFS): nothing to analyse")
        if rec.frames == 0:
            raise ValueError(
                f"too short: under one analysis frame ({s.n_fft / s.sample_rate:.2f} s)"
            )
        result = rec.result(source, label, peak_dbfs)
        self.recordings.append(result)
        return result

    @property
    def total_frames(self) -> int:
        return sum(r.frames for r in self.recordings)

    def finish(self, name: str) -> MapMaterial:
        """The oscillator set of all recordings so far, and every region's features,
        payload (amplitudes of the set's partials) and source label."""
        s = self.settings
        if not self.recordings:
            raise ValueError("no recordings analysed")
        oscset = self.palette.finish(
            name=name,
            sources=[r.source for r in self.recordings],
            duration_s=sum(r.duration_s for r in self.recordings),
            total_frames=self.total_frames,
            max_partials=s.max_partials,
            merge_cents=s.merge_cents,
            floor_db=s.level_floor_db,
            min_presence=s.min_presence,
            settings=asdict(s),
        )
        to_partial = self.palette.bin_map(oscset, s.merge_cents)  # (n_bins_grid,)
        p = len(oscset)
        logf = np.log2(oscset.freqs)  # (P,)
        feats, payload, labels = [], [], []
        for rec in self.recordings:
            f = rec.region_features  # (R, D)
            pay = np.zeros((len(rec.region_bins), p))  # (R, P) energy per partial
            for i, (bins, energy) in enumerate(rec.region_bins):
                idx = to_partial[bins]
                ok = idx >= 0
                np.add.at(pay[i], idx[ok], energy[ok])
            amps = np.sqrt(pay)  # (R, P) rms amplitude over the region's frames
            active = amps > 10.0 ** (-60.0 / 20.0)
            count = np.log1p(active.sum(axis=1))  # (R,)
            w = amps**2
            centre = np.where(w.sum(axis=1) > 0, (w @ logf) / np.maximum(w.sum(axis=1), 1e-30),
                              float(np.mean(logf)))  # fmt: skip
            feats.append(np.column_stack([f, count, centre]))
            payload.append(amps)
            labels.append(np.full(len(amps), rec.label, dtype=np.int64))
        names = [*feature_names(self.spec), "set_active_log", "set_centroid_log2hz"]
        return MapMaterial(
            oscset,
            np.concatenate(feats),
            np.concatenate(payload),
            np.concatenate(labels),
            names,
        )


@dataclass
class MapMaterial:
    """The analysis' result: the set and one row per region for the map."""

    oscset: OscillatorSet
    features: FloatArray  # (N, D)
    payload: FloatArray  # (N, P) linear amplitudes of the set's partials
    labels: npt.NDArray[np.int64]  # (N,) index of the recording
    feature_names: Sequence[str]


class _RecordingPass:
    """The per-frame work of one recording (see the module)."""

    def __init__(
        self, s: AnalysisSettings, palette: PaletteBuilder, spec: FeatureSpec, expected: int | None
    ) -> None:
        self.s = s
        self.spec = spec
        self.palette = palette
        self.tracker = PartialTracker(
            max_jump_cents=s.max_jump_cents,
            max_gap_frames=s.max_gap_frames,
            min_length_frames=s.min_length_frames,
            max_length_frames=s.max_length_frames,
        )
        n_bins = s.n_fft // 2 + 1
        self.frames = 0
        self._power = np.zeros(n_bins)  # (n_bins,) this region's power sum
        self._bins: dict[int, float] = {}  # grid bin -> energy sum, this region
        self._in_region = 0
        self.region_features: list[FloatArray] = []
        self.region_bins: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]] = []
        # the picture: dB max-pooled over log-spaced rows (a row narrower than a bin takes
        # the bin at its lower edge)
        edges = np.geomspace(20.0, s.sample_rate / 2.0, s.plot_rows + 1)  # (rows + 1,)
        self.image_hz = np.sqrt(edges[:-1] * edges[1:])  # (rows,) centres
        self._rows = np.clip(np.ceil(edges[:-1] * s.n_fft / s.sample_rate), 0, n_bins - 1)
        self._rows = self._rows.astype(np.intp)  # (rows,) first bin of each row
        self.columns = min(s.plot_columns, expected) if expected else s.plot_columns
        self._expected = expected
        self._image = np.full((s.plot_rows, self.columns), -120.0)  # (rows, columns)
        self._tracks: list[tuple[float, int, FloatArray, FloatArray]] = []  # a min-heap
        self._seq = 0

    def frame(self, t: float, mag: FloatArray) -> None:
        s = self.s
        db = to_db(mag)  # (n_bins,)
        floor = max(s.floor_db, float(np.median(db)) + s.min_snr_db,
                    float(db.max()) - s.frame_range_db)  # fmt: skip
        freqs, amps_db, _ = peak_arrays(
            db, s.sample_rate, s.n_fft,
            min_prominence_db=s.min_prominence_db, max_peaks=s.max_peaks, floor_db=floor,
        )  # fmt: skip
        for p in self.tracker.feed(t, freqs, amps_db):
            self._closed(p)
        self._power += mag * mag
        if freqs.size:
            bins = self.palette.bin_of(freqs)
            energy = 10.0 ** (amps_db / 10.0)
            for b, e in zip(bins.tolist(), energy.tolist(), strict=True):
                self._bins[b] = self._bins.get(b, 0.0) + e
        self._in_region += 1
        if self._in_region == s.frames_per_region:
            self._cut()
        expected = self._expected or (self.frames + 1)
        col = min(self.columns - 1, self.frames * self.columns // max(expected, 1))
        pooled = np.maximum.reduceat(db, self._rows)  # (rows,)
        np.maximum(self._image[:, col], pooled, out=self._image[:, col])
        self.frames += 1

    def _cut(self) -> None:
        n = self._in_region
        self.region_features.append(frame_features(np.sqrt(self._power / n), self.spec))
        keys = np.fromiter(self._bins.keys(), dtype=np.int64, count=len(self._bins))
        vals = np.fromiter(self._bins.values(), dtype=np.float64, count=len(self._bins))
        self.region_bins.append((keys, (vals / n).astype(np.float32)))
        self._power = np.zeros_like(self._power)
        self._bins = {}
        self._in_region = 0

    def _closed(self, p: Partial) -> None:
        self.palette.add(p)
        energy = float(np.sum(10.0 ** (p.amps_db / 10.0)))
        step = max(1, len(p) // 64)
        item = (energy, self._seq, p.times[::step].copy(), p.freqs[::step].copy())
        self._seq += 1
        if len(self._tracks) < self.s.plot_tracks:
            heapq.heappush(self._tracks, item)
        elif energy > self._tracks[0][0]:
            heapq.heapreplace(self._tracks, item)

    def close(self) -> None:
        for p in self.tracker.close():
            self._closed(p)
        half = self._in_region * 2 >= self.s.frames_per_region
        if self._in_region and (not self.region_features or half):
            self._cut()  # a last region at least half full counts

    def result(self, source: str, label: int, peak_dbfs: float) -> RecordingResult:
        s = self.s
        used = min(self.columns, max(1, self.frames)) if not self._expected else self.columns
        duration = self.frames * s.frame_s + (s.n_fft - s.hop) / s.sample_rate
        return RecordingResult(
            source=source,
            label=label,
            frames=self.frames,
            duration_s=duration,
            peak_dbfs=peak_dbfs,
            region_features=np.array(self.region_features),
            region_bins=self.region_bins,
            image_db=self._image[:, :used],
            image_hz=self.image_hz,
            image_s=duration / used,
            tracks=[(t, f) for _, _, t, f in sorted(self._tracks, key=lambda x: x[1])],
        )
