"""Sounds on disk: an analysis folder (``bassd analyse --out DIR``) read and written.

A folder holds ``oscset.json`` (the oscillator set) and, when a map was trained,
``som.npz`` (the map's arrays, node states included), plus the PNGs, which nothing
reads back. :class:`SoundLibrary` resolves what ``renderer.params.partials`` or
``/renderer/partials`` names: a folder (config only), or a name looked up in
``renderer.sounds_dir`` and then among the sounds shipped with bassd
(``bassd/configs/sounds``). Loaded sounds are cached by folder and files' times, so
the renderer's bank factory, which runs on the pump's turn, never reads a file once
the controller (off the loop) or the config check has loaded it.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import numpy as np

from bassd.dsp.oscillator_set import OscillatorSet
from bassd.dsp.sound import Sound

SET_FILE = "oscset.json"
MAP_FILE = "som.npz"


class SoundError(ValueError):
    """A sound that cannot be found or read (the message names it and why)."""


def shipped_sounds_dir() -> Path:
    """The sounds shipped inside the installed package."""
    return Path(str(files("bassd.configs"))) / "sounds"


def read_sound(folder: Path) -> Sound:
    """The sound in ``folder``; SoundError naming the folder and the problem."""
    set_path = folder / SET_FILE
    try:
        data = json.loads(set_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SoundError(f"{folder}: no {SET_FILE} (not an analysis folder)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SoundError(f"{set_path}: not readable: {exc}") from None
    try:
        oscset = OscillatorSet.from_dict(data)
    except ValueError as exc:
        raise SoundError(f"{set_path}: {exc}") from None
    som = None
    map_path = folder / MAP_FILE
    if map_path.exists():
        from bassd.dsp.som import SomMap

        try:
            with np.load(map_path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            som = SomMap.from_arrays(arrays)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise SoundError(f"{map_path}: not a readable map: {exc}") from None
    try:
        return Sound(oscset, som)
    except ValueError as exc:
        raise SoundError(f"{folder}: {exc}") from None


def write_sound(folder: Path, sound: Sound) -> None:
    """Write ``sound`` into ``folder`` (created), each file replaced atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (SET_FILE + ".tmp")
    tmp.write_text(json.dumps(sound.oscset.to_dict(), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, folder / SET_FILE)
    if sound.som is not None:
        tmp_map = folder / "som.tmp.npz"
        np.savez_compressed(tmp_map, **sound.som.to_arrays())
        os.replace(tmp_map, folder / MAP_FILE)


class SoundLibrary:
    """Finds and caches sounds (see the module)."""

    def __init__(self, dirs: Sequence[Path] = ()) -> None:
        self.dirs = [Path(d).expanduser() for d in dirs]
        self._cache: dict[Path, tuple[tuple[float, ...], Sound]] = {}
        self._refs: dict[str, Path] = {}  # what each name or path resolved to

    def search_dirs(self) -> list[Path]:
        return [*self.dirs, shipped_sounds_dir()]

    def resolve(self, ref: str, *, allow_paths: bool = True) -> Path:
        """The folder ``ref`` names. A name (no path separator) is looked up in the search
        dirs; a path only when ``allow_paths`` (the config may name any folder, an OSC
        client only a name)."""
        ref = ref.strip()
        if not ref:
            raise SoundError("empty sound name")
        is_path = os.sep in ref or "/" in ref or ref.startswith((".", "~"))
        if is_path:
            if not allow_paths:
                raise SoundError(f"{ref!r}: give a sound's name, not a path, over OSC")
            folder = Path(ref).expanduser()
            if not folder.is_dir():
                raise SoundError(f"{folder}: no such analysis folder")
            return folder.resolve()
        for d in self.search_dirs():
            folder = d / ref
            if (folder / SET_FILE).is_file():
                return folder.resolve()
        where = ", ".join(str(d) for d in self.search_dirs())
        known = ", ".join(self.names()) or "none"
        raise SoundError(f"no sound called {ref!r} in {where} (known: {known})")

    def load(self, ref: str, *, allow_paths: bool = True) -> Sound:
        """The sound ``ref`` names, read again only if its files changed."""
        folder = self.resolve(ref, allow_paths=allow_paths)
        stamp = tuple(
            (folder / f).stat().st_mtime if (folder / f).exists() else -1.0
            for f in (SET_FILE, MAP_FILE)
        )
        hit = self._cache.get(folder)
        if hit is not None and hit[0] == stamp:
            self._refs[ref] = folder
            return hit[1]
        sound = read_sound(folder)
        self._cache[folder] = (stamp, sound)
        self._refs[ref] = folder
        return sound

    def cached(self, ref: str) -> Sound:
        """A sound already loaded (no file access unless it never was: then it loads)."""
        folder = self._refs.get(ref)
        if folder is not None and folder in self._cache:
            return self._cache[folder][1]
        return self.load(ref)

    def names(self) -> list[str]:
        """Every sound the search dirs hold, by name."""
        out: list[str] = []
        for d in self.search_dirs():
            if d.is_dir():
                out += sorted(p.name for p in d.iterdir() if (p / SET_FILE).is_file())
        return out
