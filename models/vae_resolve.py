"""What the ``vae:`` section names, found on disk (no torch): the model folder, the initial
slider values (preset, then sliders), the blend partner's folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bassd.models.vae_config import VaeSection
from bassd.models.vae_library import LibraryError, VaeLibrary
from bassd.models.vae_pipeline import read_sliders, slider_values
from bassd.models.vae_sliders import SliderSet


@dataclass(frozen=True)
class ResolvedVae:
    folder: Path
    sliders: SliderSet
    values: list[float]
    blend: Path | None
    library: VaeLibrary


def model_folder(library: VaeLibrary, ref: str) -> Path:
    """A library name, or a folder holding model.pt; ValueError naming what is missing."""
    p = Path(ref).expanduser()
    if ("/" in ref or ref.startswith((".", "~"))) and (p / "model.pt").is_file():
        return p.resolve()
    try:
        return library.path(ref)
    except LibraryError as exc:
        raise ValueError(str(exc)) from None


def resolve_vae(section: VaeSection) -> ResolvedVae:
    if not section.model:
        raise ValueError("renderer.name is vae but vae.model is not set (bassd vae list)")
    library = VaeLibrary(section.library_dir)
    folder = model_folder(library, section.model)
    sliders = read_sliders(folder)
    settings: dict[str, float] = {}
    if section.preset:
        try:
            values = library.preset(section.model, section.preset)["values"]
        except LibraryError as exc:
            raise ValueError(str(exc)) from None
        if isinstance(values, list):
            settings.update({str(i + 1): float(v) for i, v in enumerate(values)})
        else:
            settings.update({str(k): float(v) for k, v in values.items()})
    settings.update(section.sliders)
    blend = model_folder(library, section.blend) if section.blend else None
    return ResolvedVae(folder, sliders, slider_values(sliders, settings), blend, library)
