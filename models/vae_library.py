"""The VAE model library: trained models on disk, their index, presets and archives.

Each model is a folder ``<library>/<name>/`` holding whatever the trainer wrote (opaque
here) plus the library's own ``presets.json``. ``<library>/index.json`` lists the models;
every JSON file is replaced atomically by :func:`atomic_write_json`, which keeps the
previous version as ``<file>.bak`` so a reader always finds one complete version.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

INDEX_FORMAT = "bassd-vae-library"
INDEX_VERSION = 1
PRESETS_FORMAT = "bassd-vae-presets"
EXPORT_FORMAT = "bassd-vae-export"
EXPORT_SUFFIX = ".bassdvae"
INDEX_NAME = "index.json"
PRESETS_NAME = "presets.json"
BACKUP_SUFFIX = ".bak"
_TMP_PREFIX = ".tmp-"  # model names may not start with a dot, so these never clash
_RESERVED = {INDEX_NAME, INDEX_NAME + BACKUP_SUFFIX}
_NAME_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
_ARCHIVE_MODEL_DIR = "model"
_LIBRARY_KEYS = ("created", "files")  # set by the library, never taken from metadata

Json = dict[str, Any]


class LibraryError(ValueError):
    """A library operation refused or failed; the message names the model/file and why."""


def default_root() -> Path:
    """``$XDG_DATA_HOME/bassd/vae``, else ``~/.local/share/bassd/vae``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "bassd" / "vae"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fsync_dir(folder: Path) -> None:
    """Flush a directory entry change (rename, create) to disk where the OS allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # e.g. Windows: directories cannot be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _parses(path: Path) -> bool:
    try:
        json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return True


def _backup(path: Path) -> None:
    """Make ``path.bak`` the current (complete, parseable) ``path``; a broken one is not kept."""
    if not path.is_file() or not _parses(path):
        return
    bak = path.with_name(path.name + BACKUP_SUFFIX)
    tmp = path.with_name(f"{_TMP_PREFIX}{path.name}.{os.getpid()}{BACKUP_SUFFIX}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        os.link(path, tmp)  # the same bytes under a second name, no copy to tear
    except OSError:
        shutil.copyfile(path, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
    os.replace(tmp, bak)


def atomic_write_json(path: Path, data: Any, *, backup: bool = True) -> None:
    """Replace ``path`` with ``data`` as JSON so readers see the old or the new file, whole.

    Writes a temp file in the same folder, flushes and fsyncs it, keeps the previous
    (parseable) file as ``path.bak`` when ``backup``, renames over ``path`` and fsyncs
    the folder. On any error the temp file is removed and ``path`` is untouched.
    """
    path = Path(path)
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    fd, tmp_name = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{path.name}.", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if backup:
            _backup(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _read_with_backup(path: Path, validate: Callable[[Any], str | None]) -> tuple[Any, bool]:
    """The first valid of ``path``, ``path.bak`` and whether the backup was used.

    ``validate`` returns None or why the data is invalid. Neither file: (None, False).
    """
    bak = path.with_name(path.name + BACKUP_SUFFIX)
    reasons = []
    for candidate in (path, bak):
        try:
            data = json.loads(candidate.read_bytes())
        except FileNotFoundError:
            reasons.append(f"{candidate} is missing")
            continue
        except (OSError, ValueError) as exc:
            reasons.append(f"{candidate} is unreadable ({exc})")
            continue
        why = validate(data)
        if why is None:
            return data, candidate is bak
        reasons.append(f"{candidate} is invalid ({why})")
    if not path.exists() and not bak.exists():
        return None, False
    raise LibraryError(f"no usable copy of {path.name}: " + "; ".join(reasons))


def _validate_index(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a JSON object"
    if data.get("format") != INDEX_FORMAT:
        return f"format is {data.get('format')!r}, not {INDEX_FORMAT!r}"
    if data.get("version") != INDEX_VERSION:
        return f"version {data.get('version')!r}; this bassd reads version {INDEX_VERSION}"
    models = data.get("models")
    if not isinstance(models, dict):
        return "'models' is not an object"
    for name, entry in models.items():
        if not isinstance(entry, dict):
            return f"entry {name!r} is not an object"
    return None


def _validate_presets(data: Any) -> str | None:
    if not isinstance(data, dict) or data.get("format") != PRESETS_FORMAT:
        return f"not a {PRESETS_FORMAT} file"
    if not isinstance(data.get("presets"), dict):
        return "'presets' is not an object"
    return None


def check_name(name: str) -> str:
    """``name`` if it is a valid model name, else LibraryError saying why."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise LibraryError(
            f"invalid model name {name!r}: use 1-64 letters, digits, '-', '_' or '.', "
            "not starting with a dot"
        )
    if name in _RESERVED:
        raise LibraryError(f"invalid model name {name!r}: reserved for the library index")
    return name


def _check_preset_name(preset: str) -> str:
    if not isinstance(preset, str) or not preset.strip() or len(preset) > 64:
        raise LibraryError(f"invalid preset name {preset!r}: use 1-64 characters, not blank")
    if any(not ch.isprintable() for ch in preset):
        raise LibraryError(f"invalid preset name {preset!r}: control characters")
    return preset


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LibraryError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _files_of(folder: Path) -> list[str]:
    """Relative POSIX paths of the trainer's files in ``folder`` (not the library's own)."""
    out = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder).as_posix()
        ours = rel in (PRESETS_NAME, PRESETS_NAME + BACKUP_SUFFIX)
        if p.is_file() and not ours and not p.name.startswith(_TMP_PREFIX):
            out.append(rel)
    return sorted(out)


def _entry(folder: Path, metadata: Json | None, created: str | None = None) -> Json:
    """An index entry for ``folder``: metadata checked, ``created`` and ``files`` filled in."""
    meta = dict(metadata or {})
    for key in _LIBRARY_KEYS:
        meta.pop(key, None)
    entry: Json = {"created": created or _now(), "files": _files_of(folder)}
    entry["seconds_of_audio"] = _finite(meta.pop("seconds_of_audio", 0.0), "seconds_of_audio")
    n_files = meta.pop("n_files", 0)
    if isinstance(n_files, bool) or not isinstance(n_files, int) or n_files < 0:
        raise LibraryError(f"n_files must be a non-negative integer, got {n_files!r}")
    entry["n_files"] = n_files
    description = meta.pop("description", "")
    if not isinstance(description, str):
        raise LibraryError(f"description must be a string, got {description!r}")
    entry["description"] = description
    tags = meta.pop("tags", [])
    if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
        raise LibraryError(f"tags must be a list of strings, got {tags!r}")
    entry["tags"] = list(tags)
    entry.update(meta)
    try:
        json.dumps(entry, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise LibraryError(f"metadata is not JSON-serialisable: {exc}") from exc
    return entry


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    """The member's safe relative path, or LibraryError (absolute, ``..``, links, odd names)."""
    name = info.filename
    parts = PurePosixPath(name).parts
    if (
        not name
        or "\\" in name
        or name.startswith("/")
        or re.match(r"[A-Za-z]:", name)
        or any(part in ("..", "") for part in parts)
        or "\0" in name
    ):
        raise LibraryError(f"archive member {name!r} has an unsafe path (absolute or '..')")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise LibraryError(f"archive member {name!r} is a symbolic link")
    return PurePosixPath(*parts)


class VaeLibrary:
    """A folder of trained VAE models with an index, presets and one-file archives.

    Every operation re-reads the index, so several instances over one folder agree.
    ``recovered`` is True when the last read fell back to ``index.json.bak``.
    """

    def __init__(
        self,
        root: Path | None = None,
        *,
        max_import_bytes: int = 8 << 30,
        max_import_files: int = 10_000,
    ) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.max_import_bytes = max_import_bytes
        self.max_import_files = max_import_files
        self.recovered = False

    # -- the index -------------------------------------------------------------------

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_NAME

    def _load(self) -> Json:
        data, self.recovered = _read_with_backup(self.index_path, _validate_index)
        if data is None:
            return {"format": INDEX_FORMAT, "version": INDEX_VERSION, "models": {}}
        return dict(data)

    def _save(self, index: Json) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.index_path, index)
        self.recovered = False

    def _models(self) -> dict[str, Json]:
        models: dict[str, Json] = self._load()["models"]
        return models

    def _require(self, models: dict[str, Json], name: str) -> Json:
        if name not in models:
            known = ", ".join(sorted(models)) or "none"
            raise LibraryError(f"no model called {name!r} (known: {known})")
        return models[name]

    def _refuse_taken(self, models: dict[str, Json], name: str, replace: bool) -> None:
        if replace:
            return
        if name in models or (self.root / name).exists():
            raise LibraryError(f"a model called {name!r} already exists (pass replace=True)")
        clash = [m for m in models if m.lower() == name.lower()]
        if clash:
            raise LibraryError(f"model name {name!r} differs from {clash[0]!r} only by case")

    def _tmp_dir(self, what: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{what}-", dir=self.root))

    def _install(self, staged: Path, name: str) -> None:
        """Rename a staged folder to ``<root>/<name>``, moving any old one aside first."""
        dest = self.root / name
        old: Path | None = None
        if dest.exists():
            old = self._tmp_dir("old")
            old.rmdir()
            os.replace(dest, old)
        os.replace(staged, dest)
        _fsync_dir(self.root)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    # -- reading ---------------------------------------------------------------------

    def names(self) -> list[str]:
        """The models' names, sorted."""
        return sorted(self._models())

    def info(self, name: str) -> Json:
        """A copy of model ``name``'s index entry."""
        return copy.deepcopy(self._require(self._models(), name))

    def path(self, name: str) -> Path:
        """Model ``name``'s folder; LibraryError when unknown or its folder is missing."""
        self._require(self._models(), name)
        folder = self.root / name
        if not folder.is_dir():
            raise LibraryError(f"model {name!r} is indexed but its folder {folder} is missing")
        return folder

    def search(self, text: str) -> list[str]:
        """Names whose name, description or tags contain every word of ``text`` (any case)."""
        words = text.lower().split()
        hits = []
        for name, entry in self._models().items():
            tags = entry.get("tags", [])
            fields = [name, str(entry.get("description", ""))]
            fields += [str(t) for t in tags] if isinstance(tags, list) else []
            hay = "\n".join(fields).lower()
            if all(w in hay for w in words):
                hits.append(name)
        return sorted(hits)

    # -- writing ---------------------------------------------------------------------

    def add(
        self, name: str, source_folder: Path, metadata: Json | None = None, *, replace: bool = False
    ) -> Path:
        """Copy ``source_folder`` in as model ``name`` (staged, then renamed); its folder."""
        check_name(name)
        src = Path(source_folder)
        if not src.is_dir():
            raise LibraryError(f"cannot add model {name!r}: {src} is not a folder")
        if self.root.exists() and src.resolve().is_relative_to(self.root.resolve()):
            raise LibraryError(f"cannot add model {name!r}: {src} is inside the library")
        models = self._models()
        self._refuse_taken(models, name, replace)
        staged = self._tmp_dir("add")
        try:
            shutil.copytree(src, staged, dirs_exist_ok=True, symlinks=False)
            entry = _entry(staged, metadata)
            self._install(staged, name)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        models = self._models()
        models[name] = entry
        self._save({"format": INDEX_FORMAT, "version": INDEX_VERSION, "models": models})
        return self.root / name

    def register(self, name: str, metadata: Json | None = None, *, replace: bool = False) -> Json:
        """Index the folder ``<root>/<name>`` the trainer wrote in place; its entry."""
        check_name(name)
        folder = self.root / name
        if not folder.is_dir():
            raise LibraryError(f"cannot register model {name!r}: {folder} is not a folder")
        models = self._models()
        if name in models and not replace:
            raise LibraryError(f"model {name!r} is already registered (pass replace=True)")
        entry = _entry(folder, metadata)
        models[name] = entry
        self._save({"format": INDEX_FORMAT, "version": INDEX_VERSION, "models": models})
        return copy.deepcopy(entry)

    def rename(self, old: str, new: str) -> None:
        """Rename model ``old`` to ``new`` (folder and index entry)."""
        check_name(new)
        models = self._models()
        self._require(models, old)
        if new == old:
            return
        if new.lower() != old.lower():
            self._refuse_taken(models, new, replace=False)
        elif new in models:
            raise LibraryError(f"a model called {new!r} already exists")
        src = self.path(old)
        os.replace(src, self.root / new)
        _fsync_dir(self.root)
        models[new] = models.pop(old)
        try:
            self._save({"format": INDEX_FORMAT, "version": INDEX_VERSION, "models": models})
        except BaseException:
            os.replace(self.root / new, src)
            raise

    def delete(self, name: str) -> None:
        """Remove model ``name``: its folder (presets included) and its index entry."""
        models = self._models()
        self._require(models, name)
        folder = self.root / name
        trash: Path | None = None
        if folder.exists():
            trash = self._tmp_dir("del")
            trash.rmdir()
            os.replace(folder, trash)
        del models[name]
        self._save({"format": INDEX_FORMAT, "version": INDEX_VERSION, "models": models})
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)

    # -- archives --------------------------------------------------------------------

    def export(self, name: str, file: Path) -> Path:
        """Write model ``name`` as one ``.bassdvae`` zip (folder + ``entry.json``); its path.

        ``file`` may be a folder (``<name>.bassdvae`` is written in it); the suffix is added
        when missing. The zip is written to a temp file and renamed into place.
        """
        folder = self.path(name)
        entry = self.info(name)
        out = Path(file)
        if out.is_dir():
            out = out / f"{name}{EXPORT_SUFFIX}"
        elif out.suffix != EXPORT_SUFFIX:
            out = out.with_name(out.name + EXPORT_SUFFIX)
        out.parent.mkdir(parents=True, exist_ok=True)
        head = {"format": EXPORT_FORMAT, "version": 1, "name": name, "entry": entry}
        fd, tmp_name = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{out.name}.", dir=out.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("entry.json", json.dumps(head, indent=1, ensure_ascii=False))
                for p in sorted(folder.rglob("*")):
                    if p.is_file() and not p.name.startswith(_TMP_PREFIX):
                        rel = p.relative_to(folder).as_posix()
                        zf.write(p, f"{_ARCHIVE_MODEL_DIR}/{rel}")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, out)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(out.parent)
        return out

    def _read_archive_head(self, zf: zipfile.ZipFile, file: Path) -> Json:
        try:
            head = json.loads(zf.read("entry.json"))
        except KeyError:
            raise LibraryError(f"{file} has no entry.json: not a bassd VAE archive") from None
        except ValueError as exc:
            raise LibraryError(f"{file}: entry.json is not valid JSON ({exc})") from exc
        if not isinstance(head, dict) or head.get("format") != EXPORT_FORMAT:
            raise LibraryError(f"{file}: entry.json is not a {EXPORT_FORMAT} header")
        if not isinstance(head.get("entry"), dict):
            raise LibraryError(f"{file}: entry.json has no index entry")
        return head

    def _check_members(self, zf: zipfile.ZipFile, file: Path) -> list[zipfile.ZipInfo]:
        """The model files to extract, after refusing unsafe, duplicate or oversized members."""
        infos = zf.infolist()
        if len(infos) > self.max_import_files + 1:
            raise LibraryError(f"{file} holds {len(infos)} files (limit {self.max_import_files})")
        seen: set[str] = set()
        members = []
        total = 0
        for info in infos:
            rel = _member_path(info)
            key = rel.as_posix()
            if key.lower() in seen:
                raise LibraryError(f"{file}: member {info.filename!r} appears twice")
            seen.add(key.lower())
            if key == "entry.json" or info.is_dir():
                continue
            if rel.parts[0] != _ARCHIVE_MODEL_DIR or len(rel.parts) < 2:
                raise LibraryError(f"{file}: unexpected member {info.filename!r} outside model/")
            total += info.file_size
            if total > self.max_import_bytes:
                raise LibraryError(
                    f"{file} unpacks to over {self.max_import_bytes} bytes (the import limit)"
                )
            members.append(info)
        if not members:
            raise LibraryError(f"{file} holds no model files")
        return members

    def _extract(self, zf: zipfile.ZipFile, members: Iterable[zipfile.ZipInfo], dest: Path) -> None:
        """Extract members under ``dest``, counting real bytes (headers can lie)."""
        budget = self.max_import_bytes
        for info in members:
            target = dest.joinpath(*_member_path(info).parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    budget -= len(chunk)
                    if budget < 0:
                        raise LibraryError(f"archive unpacks to over {self.max_import_bytes} bytes")
                    dst.write(chunk)

    def import_(self, file: Path, name: str | None = None) -> str:
        """Add the model in archive ``file`` (as ``name``, else its own); the name used."""
        file = Path(file)
        if not file.is_file():
            raise LibraryError(f"cannot import {file}: no such file")
        try:
            zf = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError) as exc:
            raise LibraryError(f"cannot import {file}: not a zip archive ({exc})") from exc
        with zf:
            head = self._read_archive_head(zf, file)
            members = self._check_members(zf, file)
            own = head.get("name")
            if name is None and not isinstance(own, str):
                raise LibraryError(f"{file}: entry.json names no model; give a name")
            target = check_name(name if name is not None else str(own))
            models = self._models()
            if target in models or (self.root / target).exists():
                raise LibraryError(
                    f"cannot import {file}: a model called {target!r} already exists; "
                    "give a new name"
                )
            self._refuse_taken(models, target, replace=False)
            staged = self._tmp_dir("import")
            try:
                self._extract(zf, members, staged)
                old = head["entry"]
                entry = _entry(staged, old, created=str(old.get("created") or _now()))
                entry["imported"] = _now()
                self._install(staged, target)
            except zipfile.BadZipFile as exc:
                shutil.rmtree(staged, ignore_errors=True)
                raise LibraryError(f"cannot import {file}: damaged archive ({exc})") from exc
            except BaseException:
                shutil.rmtree(staged, ignore_errors=True)
                raise
        models = self._models()
        models[target] = entry
        self._save({"format": INDEX_FORMAT, "version": INDEX_VERSION, "models": models})
        return target

    # -- presets ---------------------------------------------------------------------

    def _presets_path(self, model: str) -> Path:
        return self.path(model) / PRESETS_NAME

    def _load_presets(self, model: str) -> dict[str, Json]:
        data, _ = _read_with_backup(self._presets_path(model), _validate_presets)
        presets: dict[str, Json] = data["presets"] if data else {}
        return presets

    def _save_presets(self, model: str, presets: dict[str, Json]) -> None:
        data = {"format": PRESETS_FORMAT, "version": 1, "presets": presets}
        atomic_write_json(self._presets_path(model), data)

    def save_preset(self, model: str, preset: str, values: dict[str, float] | list[float]) -> None:
        """Store slider ``values`` (by slider name or position) as ``preset`` of ``model``."""
        _check_preset_name(preset)
        stored: dict[str, float] | list[float]
        if isinstance(values, dict):
            for key in values:
                if not isinstance(key, str):
                    raise LibraryError(f"preset {preset!r}: slider names must be strings")
            stored = {k: _finite(v, f"slider {k!r}") for k, v in values.items()}
        elif isinstance(values, list | tuple):
            stored = [_finite(v, f"slider {i}") for i, v in enumerate(values)]
        else:
            raise LibraryError(f"preset {preset!r}: values must be a dict or list of numbers")
        presets = self._load_presets(model)
        presets[preset] = {"values": stored, "saved": _now()}
        self._save_presets(model, presets)

    def preset(self, model: str, preset: str) -> Json:
        """Preset ``preset`` of ``model``: ``{"values": dict | list, "saved": iso8601}``."""
        presets = self._load_presets(model)
        if preset not in presets:
            known = ", ".join(sorted(presets)) or "none"
            raise LibraryError(f"model {model!r} has no preset called {preset!r} (known: {known})")
        return copy.deepcopy(presets[preset])

    def presets(self, model: str) -> list[str]:
        """The preset names of ``model``, sorted."""
        return sorted(self._load_presets(model))

    def delete_preset(self, model: str, preset: str) -> None:
        """Remove preset ``preset`` of ``model``."""
        presets = self._load_presets(model)
        self.preset(model, preset)  # the error naming the known presets
        del presets[preset]
        self._save_presets(model, presets)

    # -- consistency -----------------------------------------------------------------

    def _leftovers(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.name.startswith(_TMP_PREFIX))

    def _folders(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    def check(self) -> list[str]:
        """Problems between index and folders (empty when consistent)."""
        models = self._models()
        problems = []
        if self.recovered:
            problems.append(f"{self.index_path} was unusable; read from its backup")
        for name in sorted(models):
            if not (self.root / name).is_dir():
                problems.append(f"model {name!r} is indexed but its folder is missing")
        for name in self._folders():
            if name not in models:
                problems.append(f"folder {name!r} has no index entry")
        for p in self._leftovers():
            problems.append(f"leftover temporary {p.name!r} from an interrupted operation")
        return problems

    def repair(self) -> list[str]:
        """Fix what :meth:`check` finds; the actions taken and what was left unfixed."""
        models = self._models()
        actions = []
        changed = self.recovered
        if self.recovered:
            actions.append("rewrote the index from its backup")
        for name in sorted(models):
            if not (self.root / name).is_dir():
                del models[name]
                changed = True
                actions.append(f"dropped entry {name!r} (no folder)")
        for name in self._folders():
            if name in models:
                continue
            folder = self.root / name
            try:
                check_name(name)
            except LibraryError:
                actions.append(f"left folder {name!r}: not a valid model name")
                continue
            if not (folder / "config.json").is_file():
                actions.append(f"left folder {name!r}: no config.json, not a model")
                continue
            models[name] = _entry(folder, {"repaired": _now()})
            changed = True
            actions.append(f"re-registered folder {name!r}")
        if changed:
            self._save({"format": INDEX_FORMAT, "version": INDEX_VERSION, "models": models})
        for p in self._leftovers():
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()
            actions.append(f"removed leftover {p.name!r}")
        return actions
