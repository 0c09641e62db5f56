"""``bassd analyse``: recordings -> an oscillator set, a self-organising map and PNGs.

Each file is streamed (decoded and resampled block by block: an hour-long file
costs what a minute does, bar the map's rows) through :class:`Analysis`; the map
is trained on the regions of all of them. The folder written (``--out``) is a
*sound*: ``oscset.json``, ``som.npz`` (when the recordings give enough regions for
a map), ``spectrogram-<file>.png`` per file and ``som.png``. Nothing is written
when any file fails: the error names it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bassd.app.audio_stream import AudioFileError, iter_mono, probe
from bassd.dsp.analysis import Analysis, AnalysisSettings, MapMaterial, SilentRecording
from bassd.dsp.sound import Sound
from bassd.engine.sound_library import write_sound

MIN_MAP_REGIONS = 8  # fewer regions than this give no map (the set alone is written)


class AnalysisError(ValueError):
    """An analysis that cannot be done (the message names the file and why)."""


@dataclass(frozen=True)
class FileSummary:
    path: Path
    rate: int
    channels: int
    seconds: float
    regions: int
    peak_dbfs: float


@dataclass(frozen=True)
class AnalyseResult:
    folder: Path
    sound: Sound
    files: tuple[FileSummary, ...]
    wall_seconds: float
    stage_seconds: dict[str, float]
    pngs: tuple[Path, ...]

    @property
    def audio_seconds(self) -> float:
        return sum(f.seconds for f in self.files)


def map_shape(regions: int) -> tuple[int, int] | None:
    """The map's rows and columns for ``regions`` rows of data: about 5·sqrt(N) nodes
    (Vesanto's rule of thumb), square, 3..12 a side; None below MIN_MAP_REGIONS."""
    if regions < MIN_MAP_REGIONS:
        return None
    side = int(np.clip(round(math.sqrt(5.0 * math.sqrt(regions))), 3, 12))
    return side, side


def parse_map(text: str) -> tuple[int, int] | str | None:
    """``--map``: "auto", "none" or ROWSxCOLS (2..32 each)."""
    if text in ("auto", "none"):
        return text
    try:
        r, c = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--map {text!r}: give auto, none or ROWSxCOLS such as 8x8") from None
    if not (2 <= r <= 32 and 2 <= c <= 32):
        raise ValueError(f"--map {text!r}: rows and columns must be 2..32")
    return r, c


def analyse_files(
    paths: Sequence[Path],
    out: Path,
    *,
    name: str | None = None,
    settings: AnalysisSettings | None = None,
    som: tuple[int, int] | str | None = "auto",
    seed: int = 0,
    pngs: bool = True,
    progress: Callable[[str], None] | None = None,
) -> AnalyseResult:
    """Analyse ``paths`` into the sound folder ``out`` (see the module)."""
    say = progress or (lambda _m: None)
    if not paths:
        raise AnalysisError("no files to analyse")
    s = settings or AnalysisSettings()
    name = name or out.name
    t_start = time.perf_counter()
    infos = []
    for p in paths:
        try:
            infos.append(probe(p))
        except AudioFileError as exc:
            raise AnalysisError(str(exc)) from None
    analysis = Analysis(s)
    summaries = []
    for info in infos:
        say(f"analysing {info.path} ({info.duration_s:.1f} s, {info.sample_rate} Hz, "
            f"{info.channels} ch)")  # fmt: skip
        expected = round(info.frames * s.sample_rate / info.sample_rate)
        try:
            rec = analysis.add_recording(
                str(info.path.name),
                iter_mono(info.path, s.sample_rate),
                expected_samples=expected,
            )
        except AudioFileError as exc:
            raise AnalysisError(str(exc)) from None
        except SilentRecording as exc:
            raise AnalysisError(f"{info.path}: {exc}") from None
        except ValueError as exc:
            raise AnalysisError(f"{info.path}: {exc}") from None
        summaries.append(
            FileSummary(info.path, info.sample_rate, info.channels, info.duration_s,
                        len(rec.region_bins), rec.peak_dbfs)
        )  # fmt: skip
    t_stream = time.perf_counter()
    try:
        material = analysis.finish(name)
    except ValueError as exc:
        names = ", ".join(str(p) for p in paths)
        raise AnalysisError(f"{names}: {exc}") from None
    t_set = time.perf_counter()
    som_map = _train(material, som, seed, say)
    t_map = time.perf_counter()
    oscset = material.oscset
    if som_map is not None:
        history = [{"iteration": i, "qe": round(q, 5), "te": round(t, 5)}
                   for i, q, t in som_map.history]  # fmt: skip
        info_map = {"rows": som_map.rows, "cols": som_map.cols, "regions": len(material.labels),
                    "features": list(material.feature_names), "history": history}  # fmt: skip
        oscset = replace(oscset, settings={**oscset.settings, "map": info_map})
    sound = Sound(oscset, som_map)
    write_sound(out, sound)
    written: list[Path] = []
    if pngs:
        written = _draw(out, analysis, sound, [str(p.name) for p in paths])
    t_end = time.perf_counter()
    return AnalyseResult(
        folder=out,
        sound=sound,
        files=tuple(summaries),
        wall_seconds=t_end - t_start,
        stage_seconds={
            "stream (decode, STFT, peaks, tracks)": t_stream - t_start,
            "set": t_set - t_stream,
            "map": t_map - t_set,
            "write + PNGs": t_end - t_map,
        },
        pngs=tuple(written),
    )


def _train(
    material: MapMaterial, som: tuple[int, int] | str | None, seed: int, say: Callable[[str], None]
) -> Any:
    if som == "none":
        return None
    n = len(material.labels)
    shape = map_shape(n) if som == "auto" else som
    if shape is None:
        say(f"no map: {n} regions, a map needs {MIN_MAP_REGIONS} (longer recordings)")
        return None
    assert isinstance(shape, tuple)
    from bassd.dsp.som import train_map

    say(f"training a {shape[0]}x{shape[1]} map on {n} regions")
    return train_map(material.features, material.payload, material.labels,
                     rows=shape[0], cols=shape[1], seed=seed)  # fmt: skip


def _draw(out: Path, analysis: Analysis, sound: Sound, names: list[str]) -> list[Path]:
    from bassd.app.analysis_plots import draw_som, draw_spectrogram

    written = []
    stems: dict[str, int] = {}
    for rec in analysis.recordings:
        stem = Path(rec.source).stem
        stems[stem] = stems.get(stem, 0) + 1
        suffix = "" if stems[stem] == 1 else f"-{stems[stem]}"
        path = out / f"spectrogram-{stem}{suffix}.png"
        cols = rec.image_db.shape[1]
        times = (np.arange(cols) + 0.5) * rec.image_s  # (cols,)
        draw_spectrogram(path, times, rec.image_hz, rec.image_db.T, rec.tracks,
                         title=rec.source)  # fmt: skip
        written.append(path)
    if sound.som is not None:
        path = out / "som.png"
        draw_som(path, sound.som, names,
                 title=sound.name)  # fmt: skip
        written.append(path)
    return written
