"""Oscillator sets: the partials of a recording, as the Kuramoto bank plays them.

An :class:`OscillatorSet` is what ``bassd analyse`` finds in the user's material: a
palette of partials, each with its frequency, an amplitude envelope summary, its
band and its stability, and a suggested coupling per band. It is plain data (a
dict for JSON, no I/O here); the bank takes it as its partial layout.

**Building one in bounded memory** (:class:`PaletteBuilder`). Tracks arrive one at a
time as the tracker closes them and are summarised at once into a fixed grid of
5-cent bins (energy-weighted sums of log frequency, its square, stability,
amplitude, envelope times); nothing of a track is kept after that, so an hour of
audio costs what ten seconds do. :meth:`PaletteBuilder.finish` merges the grid
into partials: the strongest bin not yet taken, with its neighbours within
``merge_cents`` that are weaker, becomes one partial, until ``max_partials`` or
the level floor (``floor_db`` below the loudest) is reached. Noise does not
survive this: its tracks are short (the tracker drops those under its minimum
length), wander, and spread their energy thinly over many bins, each far below
a real partial's; a partial must also have sounded for ``min_presence`` of the
recording.

**Suggested coupling.** Per band, K/K_c = 0.5 + 1.5 · (the energy share of its
stable partials): a band of steady partials locks (K/K_c above 1: the chord
stands still), a band of wandering ones drifts and shimmers, as the recording
did. The bank uses the ratios between bands as per-partial coupling weights
(mean 1), so ``renderer.params.coupling`` keeps its meaning.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bassd.dsp.partial_tracks import DEFAULT_BANDS, Partial, band_label

FORMAT: Final = "bassd-oscillator-set"
VERSION: Final = 1
BIN_CENTS: Final = 5.0
F_LOW: Final = 20.0  # Hz: the grid's lowest bin
F_HIGH: Final = 20_000.0


@dataclass(frozen=True)
class SetPartial:
    """One oscillator of the set (frequency in Hz, levels in dB re a full-scale sine)."""

    freq_hz: float
    amp_db: float  # energy-weighted mean level while sounding
    peak_db: float  # the loudest frame
    presence: float  # fraction of the recording's frames it sounded in
    onset_s: float  # first heard
    offset_s: float  # last heard
    attack_s: float  # mean time from a track's start to its loudest frame
    decay_db_s: float  # mean slope after the peak (dB/s; negative: dies away)
    band: str
    freq_std_cents: float
    amp_jitter_db: float
    stable: bool
    tracks: int  # tracked segments merged into it

    @property
    def amp(self) -> float:
        """Linear amplitude of ``amp_db``."""
        return float(10.0 ** (self.amp_db / 20.0))


@dataclass(frozen=True)
class BandInfo:
    """A band of the set: its partials' count, stable share, suggested coupling (K/K_c)."""

    label: str
    lo_hz: float
    hi_hz: float
    partials: int
    stable_share: float
    coupling: float


@dataclass(frozen=True)
class OscillatorSet:
    """The partials of one analysis (see the module)."""

    name: str
    sources: tuple[str, ...]
    duration_s: float
    partials: tuple[SetPartial, ...]
    bands: tuple[BandInfo, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)  # how it was analysed

    def __len__(self) -> int:
        return len(self.partials)

    @property
    def freqs(self) -> npt.NDArray[np.float64]:
        return np.array([p.freq_hz for p in self.partials])  # (P,)

    @property
    def amps(self) -> npt.NDArray[np.float64]:
        return np.array([p.amp for p in self.partials])  # (P,) linear

    def coupling_weights(self) -> npt.NDArray[np.float64]:
        """(P,) each partial's band coupling over the partials' mean (mean 1)."""
        by_label = {b.label: b.coupling for b in self.bands}
        w = np.array([by_label.get(p.band, 1.0) for p in self.partials])
        mean = float(w.mean()) if len(w) else 1.0
        return w / mean if mean > 0 else np.ones_like(w)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "sources": list(self.sources),
            "duration_s": self.duration_s,
            "settings": dict(self.settings),
            "bands": [asdict(b) for b in self.bands],
            "partials": [asdict(p) for p in self.partials],
        }

    @classmethod
    def from_dict(cls, d: Any) -> OscillatorSet:
        """The set a :meth:`to_dict` wrote; ValueError naming what is wrong otherwise."""
        if not isinstance(d, dict):
            raise ValueError("an oscillator set is a JSON object")
        if d.get("format") != FORMAT:
            raise ValueError(f"not an oscillator set (format {d.get('format')!r})")
        if d.get("version") != VERSION:
            raise ValueError(f"oscillator set version {d.get('version')!r}, expected {VERSION}")
        try:
            partials = tuple(_record(SetPartial, p, f"partials[{i}]")
                             for i, p in enumerate(d["partials"]))  # fmt: skip
            bands = tuple(_record(BandInfo, b, f"bands[{i}]") for i, b in enumerate(d["bands"]))
            out = cls(
                name=str(d["name"]),
                sources=tuple(str(s) for s in d["sources"]),
                duration_s=float(d["duration_s"]),
                partials=partials,
                bands=bands,
                settings=dict(d.get("settings", {})),
            )
        except KeyError as exc:
            raise ValueError(f"oscillator set: missing {exc.args[0]!r}") from None
        except TypeError as exc:
            raise ValueError(f"oscillator set: {exc}") from None
        if not out.partials:
            raise ValueError("oscillator set has no partials")
        for i, p in enumerate(out.partials):
            if not (F_LOW <= p.freq_hz <= F_HIGH) or not math.isfinite(p.amp_db):
                raise ValueError(
                    f"oscillator set partials[{i}]: frequency {p.freq_hz!r} Hz or level "
                    f"{p.amp_db!r} dB out of range"
                )
        return out


def _record(kind: type, d: Any, where: str) -> Any:
    """A ``kind`` dataclass from a dict with exactly its fields, each converted."""
    if not isinstance(d, dict):
        raise ValueError(f"oscillator set {where}: expected an object")
    fields = {f.name: f for f in dataclasses.fields(kind)}
    names = list(fields)
    missing, extra = set(names) - set(d), set(d) - set(names)
    if missing or extra:
        raise ValueError(
            f"oscillator set {where}: missing {sorted(missing)} / unknown {sorted(extra)}"
        )
    values = {}
    for n in names:
        ftype = str(fields[n].type)
        conv = {"float": float, "int": int, "str": str, "bool": bool}[ftype]
        try:
            values[n] = conv(d[n])
        except (TypeError, ValueError):
            raise ValueError(f"oscillator set {where}.{n}: not a {ftype}: {d[n]!r}") from None
    return kind(**values)


# ------------------------------------------------------------------- building
def _n_bins() -> int:
    return math.ceil(1200.0 * math.log2(F_HIGH / F_LOW) / BIN_CENTS) + 1


_STATS: Final = (
    "w",  # energy-time weight Σ a² · frame seconds
    "w_logf",  # Σ w · log2 f
    "w_logf2",
    "w_db",  # Σ w · mean level (dB)
    "w_std",  # Σ w · freq std (cents)
    "w_jit",
    "w_stable",  # Σ w over stable tracks
    "w_attack",
    "w_decay",
    "frames",  # frames sounded
    "tracks",
)


class PaletteBuilder:
    """Summarises closed tracks into a 5-cent grid; :meth:`finish` gives the set."""

    def __init__(
        self,
        frame_seconds: float,
        *,
        bands: Sequence[tuple[float, float]] = DEFAULT_BANDS,
        max_freq_std_cents: float = 5.0,
        max_amp_jitter_db: float = 3.0,
    ) -> None:
        self.frame_seconds = frame_seconds
        self.bands = tuple(bands)
        self.max_freq_std_cents = max_freq_std_cents
        self.max_amp_jitter_db = max_amp_jitter_db
        n = _n_bins()
        self._s = {k: np.zeros(n) for k in _STATS}  # each (n_bins,)
        self._peak = np.full(n, -np.inf)  # (n_bins,) loudest frame, dB
        self._onset = np.full(n, np.inf)
        self._offset = np.full(n, -np.inf)
        self.tracks = 0

    @staticmethod
    def bin_of(freq_hz: float | npt.NDArray[np.float64]) -> Any:
        """The grid bin (int or int array) of a frequency."""
        c = 1200.0 * np.log2(np.maximum(freq_hz, F_LOW) / F_LOW) / BIN_CENTS
        return np.clip(np.round(c), 0, _n_bins() - 1).astype(np.int64)

    @staticmethod
    def bin_hz(b: int | npt.NDArray[np.int64]) -> Any:
        return F_LOW * 2.0 ** (np.asarray(b) * BIN_CENTS / 1200.0)

    def add(self, p: Partial) -> None:
        """Summarise one closed track into the grid."""
        if len(p) == 0:
            return
        f = p.median_freq_hz
        if not (F_LOW <= f <= F_HIGH):
            return
        b = int(self.bin_of(f))
        lin = 10.0 ** (p.amps_db / 20.0)  # (n,)
        w = float(np.sum(lin**2)) * self.frame_seconds
        std, jit = p.freq_std_cents, p.amp_jitter_db
        k = int(np.argmax(p.amps_db))
        attack = float(p.times[k] - p.times[0])
        tail_t, tail_a = p.times[k:], p.amps_db[k:]
        decay = float(np.polyfit(tail_t, tail_a, 1)[0]) if len(tail_t) >= 3 else 0.0
        lf = math.log2(f)
        s = self._s
        s["w"][b] += w
        s["w_logf"][b] += w * lf
        s["w_logf2"][b] += w * lf * lf
        s["w_db"][b] += w * p.mean_amp_db
        s["w_std"][b] += w * std
        s["w_jit"][b] += w * jit
        stable = std <= self.max_freq_std_cents and jit <= self.max_amp_jitter_db
        s["w_stable"][b] += w if stable else 0.0
        s["w_attack"][b] += w * attack
        s["w_decay"][b] += w * decay
        s["frames"][b] += len(p)
        s["tracks"][b] += 1
        self._peak[b] = max(self._peak[b], float(p.amps_db[k]))
        self._onset[b] = min(self._onset[b], float(p.times[0]))
        self._offset[b] = max(self._offset[b], float(p.times[-1]))
        self.tracks += 1

    def add_all(self, partials: Iterable[Partial]) -> None:
        for p in partials:
            self.add(p)

    def finish(
        self,
        *,
        name: str,
        sources: Sequence[str],
        duration_s: float,
        total_frames: int,
        max_partials: int = 128,
        merge_cents: float = 15.0,
        floor_db: float = 60.0,
        min_presence: float = 0.02,
        settings: Mapping[str, Any] | None = None,
    ) -> OscillatorSet:
        """Merge the grid into at most ``max_partials`` partials (see the module).
        ValueError if nothing in the recording passes (silence, or noise only)."""
        s = self._s
        w = s["w"].copy()  # (n_bins,) what is left to take
        reach = round(merge_cents / BIN_CENTS)
        live = np.flatnonzero(w > 0)
        if live.size == 0:
            raise ValueError("no partials were found (silence, or noise only)")
        loudest = float(np.max(self._peak[live]))
        chosen: list[SetPartial] = []
        taken = np.zeros(len(w), dtype=bool)
        order = live[np.argsort(-w[live], kind="stable")]
        for b in order:
            if len(chosen) >= max_partials:
                break
            if taken[b]:
                continue
            lo, hi = max(0, b - reach), min(len(w), b + reach + 1)
            group = np.arange(lo, hi)
            group = group[~taken[group] & (s["w"][group] > 0)]
            taken[group] = True
            part = self._merge(group, total_frames)
            if part.peak_db < loudest - floor_db or part.presence < min_presence:
                continue
            chosen.append(part)
        if not chosen:
            raise ValueError(
                f"no partial sounded for {100 * min_presence:g}% of the recording within "
                f"{floor_db:g} dB of the loudest (noise only?)"
            )
        chosen.sort(key=lambda p: p.freq_hz)
        return OscillatorSet(
            name=name,
            sources=tuple(sources),
            duration_s=float(duration_s),
            partials=tuple(chosen),
            bands=self._bands(chosen),
            settings=dict(settings or {}),
        )

    def _merge(self, group: npt.NDArray[np.int64], total_frames: int) -> SetPartial:
        s = self._s
        w = float(np.sum(s["w"][group]))

        def mean(key: str) -> float:
            return float(np.sum(s[key][group])) / w

        lf = mean("w_logf")
        # spread of the merged tracks about their centre plus each one's own, in cents
        between = max(mean("w_logf2") - lf * lf, 0.0)
        std = math.sqrt(mean("w_std") ** 2 + (1200.0**2) * between)
        freq = 2.0**lf
        band = next((band_label(lo, hi) for lo, hi in self.bands if lo <= freq < hi), "other")
        jit = mean("w_jit")
        return SetPartial(
            freq_hz=round(freq, 4),
            amp_db=round(mean("w_db"), 3),
            peak_db=round(float(np.max(self._peak[group])), 3),
            presence=round(min(1.0, float(np.sum(s["frames"][group])) / max(total_frames, 1)), 5),
            onset_s=round(float(np.min(self._onset[group])), 4),
            offset_s=round(float(np.max(self._offset[group])), 4),
            attack_s=round(mean("w_attack"), 4),
            decay_db_s=round(mean("w_decay"), 4),
            band=band,
            freq_std_cents=round(std, 3),
            amp_jitter_db=round(jit, 3),
            stable=bool(std <= self.max_freq_std_cents and jit <= self.max_amp_jitter_db),
            tracks=int(np.sum(s["tracks"][group])),
        )

    def _bands(self, partials: Sequence[SetPartial]) -> tuple[BandInfo, ...]:
        out = []
        for lo, hi in self.bands:
            label = band_label(lo, hi)
            members = [p for p in partials if p.band == label]
            energy = sum(p.amp**2 * p.presence for p in members)
            stable = sum(p.amp**2 * p.presence for p in members if p.stable)
            share = stable / energy if energy > 0 else 0.0
            out.append(BandInfo(label, lo, hi, len(members), round(share, 4),
                                round(0.5 + 1.5 * share, 4)))  # fmt: skip
        return tuple(out)

    def bin_map(self, oscset: OscillatorSet, merge_cents: float = 15.0) -> npt.NDArray[np.int64]:
        """(n_bins,) the index of the set's partial each grid bin belongs to (nearest within
        ``merge_cents``), or -1: how a frame's peaks are read as the set's amplitudes."""
        centres = self.bin_of(oscset.freqs)  # (P,)
        reach = merge_cents / BIN_CENTS
        bins = np.arange(_n_bins())
        d = np.abs(bins[:, None] - centres[None, :])  # (n_bins, P)
        nearest = np.argmin(d, axis=1)
        return np.where(d[bins, nearest] <= reach, nearest, -1).astype(np.int64)
