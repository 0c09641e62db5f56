"""From a folder of audio to a playable model: train, fit the sliders, enter the library.

The steps of ``bassd vae train`` (the CLI only parses and prints): the files are
decoded (``app/vae_data_io.py`` passes the log-mels in), the VAE trains into the
model's folder inside the library (``models/vae_train.py``), its sliders are fitted
on the training patches' latents (``models/vae_sliders.py``, each named from renders)
and written as ``sliders.json``, and the model is registered in the library's index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bassd.dsp.mel import MelSpec
from bassd.models.vae_library import atomic_write_json
from bassd.models.vae_sliders import SliderSet, fit_sliders

SLIDERS_FILE = "sliders.json"


def compute_sliders(
    folder: Path, logmels: Sequence[np.ndarray], *, seed: int = 0, steps: int = 7, bases: int = 3
) -> SliderSet:
    """Fit the sliders of the model in ``folder`` on its training data and write them."""
    from bassd.models.vae_data import build_patches  # torch: only here
    from bassd.models.vae_synth import render_latent
    from bassd.models.vae_train import encode_patches, load_model

    model, meta = load_model(folder)
    spec = MelSpec.from_dict(meta["spec"])
    frames = model.config.frames
    patches = build_patches(list(logmels), frames, max(1, frames // 4))
    mu = encode_patches(model, patches)
    sliders = fit_sliders(mu, lambda z: render_latent(model, spec, z), seed=seed, steps=steps,
                          bases=bases)  # fmt: skip
    atomic_write_json(folder / SLIDERS_FILE, sliders.to_dict())
    return sliders


def read_sliders(folder: Path) -> SliderSet:
    """The sliders of a model folder (no torch needed)."""
    path = folder / SLIDERS_FILE
    try:
        return SliderSet.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ValueError(f"{folder}: no {SLIDERS_FILE} (bassd vae sliders NAME --fit)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not readable: {exc}") from None


def slider_values(sliders: SliderSet, settings: dict[str, float]) -> list[float]:
    """Values for every slider from ``{name or 1-based index: value}`` (others 0.5);
    ValueError naming an unknown slider or a value outside 0..1."""
    out = [0.5] * len(sliders)
    names = {s.name: s.index - 1 for s in sliders.sliders}
    for key, value in settings.items():
        k = str(key)
        idx = int(k) - 1 if k.isdigit() else names.get(k)
        if idx is None or not 0 <= idx < len(out):
            known = ", ".join(s.name for s in sliders.sliders)
            raise ValueError(f"no slider {k!r} (sliders: {known}, or 1..{len(out)})")
        v = float(value)
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"slider {k!r}: {v:g} is outside 0..1")
        out[idx] = v
    return out


def describe_sliders(sliders: SliderSet) -> list[dict[str, Any]]:
    """One row per slider for ``bassd vae sliders``."""
    return [
        {"slider": s.index, "name": s.name, "descriptor": s.descriptor or "-", "rho": s.rho,
         "explained": s.explained, "correlations": s.correlations}
        for s in sliders.sliders
    ]  # fmt: skip
