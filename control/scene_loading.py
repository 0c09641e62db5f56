"""The scenes a session can recall: the shipped ``configs/scenes.yaml``, then the user's file
(``scenes.file``), then inline ones (``scenes.scenes``); a later one replaces a name."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import ValidationError

from bassd.control.steering import Scene, ScenesConfig
from bassd.control.yaml_text import load_yaml


def _read(path: Path, label: str) -> dict[str, Scene]:
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{label}: not readable: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{label}: expected a mapping of scene names to scenes")
    out: dict[str, Scene] = {}
    for name, body in data.items():
        try:
            out[str(name)] = Scene(**(body or {}))
        except (TypeError, ValidationError) as exc:
            first = exc.errors()[0] if isinstance(exc, ValidationError) else {"msg": str(exc)}
            where = ".".join(str(x) for x in first.get("loc", ()))
            raise ValueError(f"{label}: scene {name!r}{' ' + where if where else ''}: "
                             f"{first['msg']}") from None  # fmt: skip
    return out


def shipped_scenes_path() -> Path:
    return Path(str(files("bassd.configs").joinpath("scenes.yaml")))


def load_scenes(config: ScenesConfig) -> dict[str, Scene]:
    """Every scene by name (see the module); ValueError naming a bad file or scene."""
    scenes = _read(shipped_scenes_path(), "shipped scenes.yaml")
    if config.file:
        path = Path(config.file).expanduser()
        scenes.update(_read(path, str(path)))
    scenes.update(config.scenes)
    return scenes
