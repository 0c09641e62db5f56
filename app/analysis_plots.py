"""PNG figures for ``bassd analyse``: a log-frequency spectrogram with the partial tracks
over it, and the SOM's U-matrix with each node's label and hit count.

matplotlib is imported inside the functions (the daemon never pays for it) and used
through ``Figure`` + ``FigureCanvasAgg``: no pyplot, no global figure registry, nothing
kept alive after the file is written. Long recordings are reduced before drawing: the
spectrogram is max-pooled to at most :data:`MAX_COLUMNS` time columns and resampled onto
:data:`N_LOG_ROWS` log-spaced frequency rows, so an hour renders as fast as a minute.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bassd.dsp.som import SomMap

FloatArray = npt.NDArray[np.float64]

FIGSIZE: Final = (10.0, 5.0)  # inches
DPI: Final[int] = 100
MAX_COLUMNS: Final[int] = 2000
N_LOG_ROWS: Final[int] = 480
DYNAMIC_RANGE_DB: Final[float] = 80.0
_FMIN_PLOT: Final[float] = 20.0
_TICKS_HZ: Final = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)


def log_freq_image(
    freqs: FloatArray, mag_db: FloatArray, fmin: float, fmax: float, n_rows: int = N_LOG_ROWS
) -> tuple[FloatArray, FloatArray]:
    """Resample ``mag_db`` (n_frames, n_bins) onto ``n_rows`` log-spaced rows over
    ``[fmin, fmax]``: each row takes the loudest bin inside it, or the bin nearest its
    centre where it is narrower than a bin. Returns (image (n_rows, n_frames), row edges
    in log2 Hz (n_rows + 1,))."""
    edges = np.linspace(np.log2(fmin), np.log2(fmax), n_rows + 1)  # (n_rows+1,) log2 Hz
    hz = 2.0**edges
    lo = np.searchsorted(freqs, hz[:-1], side="left")  # (n_rows,)
    hi = np.searchsorted(freqs, hz[1:], side="left")
    centre = np.sqrt(hz[:-1] * hz[1:])
    nearest = np.clip(np.searchsorted(freqs, centre), 1, len(freqs) - 1)
    left_closer = (centre - freqs[nearest - 1]) < (freqs[nearest] - centre)
    nearest = np.where(left_closer, nearest - 1, nearest)
    img = mag_db[:, nearest].T.copy()  # (n_rows, n_frames)
    for r in np.flatnonzero(hi > lo):
        img[r] = mag_db[:, lo[r] : hi[r]].max(axis=1)
    return img, edges


def _pool_time(times: FloatArray, mag_db: FloatArray) -> FloatArray:
    """Max-pool frames (n_frames, n_bins) in blocks so at most MAX_COLUMNS remain."""
    k = -(-mag_db.shape[0] // MAX_COLUMNS)
    if k <= 1:
        return mag_db
    n_cols = -(-mag_db.shape[0] // k)
    padded = np.full((n_cols * k, mag_db.shape[1]), -np.inf)
    padded[: mag_db.shape[0]] = mag_db
    return np.asarray(padded.reshape(n_cols, k, -1).max(axis=1), dtype=np.float64)


def _save(fig: Figure, path: str | os.PathLike[str]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)  # attaches itself to the figure; both go when fig does
    fig.savefig(Path(path), dpi=DPI, format="png")


def draw_spectrogram(
    path: str | os.PathLike[str],
    times: npt.ArrayLike,
    freqs: npt.ArrayLike,
    mag_db: npt.ArrayLike,
    tracks: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
    *,
    title: str,
    fmax: float | None = None,
) -> None:
    """Write a PNG: the spectrogram ``mag_db`` (n_frames, n_bins) on a log-frequency axis
    with each partial track ``(times, freqs)`` drawn as a line over it."""
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    t = np.asarray(times, dtype=np.float64)
    f = np.asarray(freqs, dtype=np.float64)
    s = np.asarray(mag_db, dtype=np.float64)
    if s.ndim != 2 or s.shape != (t.size, f.size) or t.size < 1:
        raise ValueError(f"mag_db must be (n_frames, n_bins) = ({t.size}, {f.size}), got {s.shape}")
    top = float(f[-1]) if fmax is None else min(float(fmax), float(f[-1]))
    bottom = max(_FMIN_PLOT, float(f[1]) if f.size > 1 else _FMIN_PLOT)
    if not top > bottom:
        raise ValueError(f"fmax must exceed {bottom} Hz, got {top}")
    img, edges = log_freq_image(f, _pool_time(t, s), bottom, top)
    finite = img[np.isfinite(img)]
    vmax = float(finite.max()) if finite.size else 0.0
    t1 = float(t[-1]) if t.size > 1 else float(t[0]) + 1.0

    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    ax = fig.add_subplot()
    im = ax.imshow(
        img,
        origin="lower",
        aspect="auto",
        cmap="magma",
        vmin=vmax - DYNAMIC_RANGE_DB,
        vmax=vmax,
        extent=(float(t[0]), t1, float(edges[0]), float(edges[-1])),
        interpolation="nearest",
    )
    segments = []
    for tt, ff in tracks:
        ta, fa = np.asarray(tt, dtype=np.float64), np.asarray(ff, dtype=np.float64)
        ok = np.isfinite(ta) & np.isfinite(fa) & (fa > 0)
        # split at missing points so a gap is not bridged by a straight line
        for run in np.split(np.arange(ta.size), np.flatnonzero(np.diff(ok.astype(int))) + 1):
            run = run[ok[run]]
            if run.size >= 2:
                segments.append(np.column_stack([ta[run], np.log2(fa[run])]))
    if segments:
        ax.add_collection(LineCollection(segments, colors="cyan", linewidths=0.8, alpha=0.8))
    ticks = [h for h in _TICKS_HZ if bottom <= h <= top]
    ax.set_yticks(np.log2(ticks))
    ax.set_yticklabels([f"{h // 1000}k" if h >= 1000 else str(h) for h in ticks])
    ax.set_ylim(float(edges[0]), float(edges[-1]))
    ax.set_xlim(float(t[0]), t1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.set_title(f"{title}  ({len(segments)} partial segments)")
    fig.colorbar(im, ax=ax, label="dB")
    _save(fig, path)


def short_label(name: str, width: int = 12) -> str:
    """A file name without its folder and extension, cut to ``width`` characters."""
    stem = Path(name).stem or name
    return stem if len(stem) <= width else stem[: width - 1] + "…"


def draw_som(
    path: str | os.PathLike[str], som: SomMap, label_names: Sequence[str], *, title: str
) -> None:
    """Write a PNG of the U-matrix, each node annotated with its label's (shortened) name
    and its hit count (a node without hits shows a dash)."""
    from matplotlib.figure import Figure

    u = som.u_matrix()  # (rows, cols)
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    ax = fig.add_subplot()
    im = ax.imshow(u, cmap="viridis", origin="upper", interpolation="nearest")
    lo, hi = float(u.min()), float(u.max())
    mid = (lo + hi) / 2.0
    size = float(np.clip(48.0 / max(som.rows, som.cols), 4.0, 9.0))
    for r in range(som.rows):
        for c in range(som.cols):
            lab = int(som.labels[r, c])
            if lab < 0:
                text = "–"
            else:
                name = label_names[lab] if lab < len(label_names) else str(lab)
                text = f"{short_label(name)}\n{int(som.hits[r, c])}"
            colour = "black" if u[r, c] > mid else "white"
            ax.text(c, r, text, ha="center", va="center", fontsize=size, color=colour)
    ax.set_xticks(range(som.cols))
    ax.set_yticks(range(som.rows))
    ax.set_xlabel("x (columns)")
    ax.set_ylabel("y (rows)")
    qe = f", QE {som.history[-1][1]:.3g}, TE {som.history[-1][2]:.3g}" if som.history else ""
    ax.set_title(f"{title}  (U-matrix, {som.rows}x{som.cols}{qe})")
    fig.colorbar(im, ax=ax, label="mean distance to neighbours")
    _save(fig, path)
