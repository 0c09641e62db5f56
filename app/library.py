"""The sound library: the user's audio files, indexed in SQLite, searched by text and sound.

One file, ``library.path`` (default ``$XDG_DATA_HOME/bassd/library.sqlite``), in WAL mode:
readers never wait for a writer, a writer waits up to ``busy_timeout`` for another, and
each indexed file is **one transaction**, so a crash or a SIGKILL mid-index leaves every
entry whole (the file's row with all its columns, or nothing). Table ``entries``: one row
per file (unique path) with its size, mtime and BLAKE2b content hash, format, rate,
channels, the descriptors of :mod:`bassd.dsp.library_features` as columns (duration,
loudness, centroid, flatness, tonality, onset rate, tempo, key), its user tags and
descriptor words (JSON lists), the 512-point waveform overview (int16 min/max pairs) and
two float32 BLOBs: the audio embedding (similarity) and the text embedding of its name,
tags and descriptor words (all-MiniLM-L6-v2, :mod:`bassd.models.text_embed`).

Re-indexing does only what changed: a file whose size and mtime match its row is not read
at all; one whose bytes hash to its row's hash only has its mtime refreshed; one whose
bytes match another row (a copy, a moved file) takes that row's features; only the rest
are decoded (:attr:`IndexReport.decodes` counts them). A file that cannot be read or
decoded is reported with its path and why, counted, and skipped.

Search: cosine over all rows by brute force in numpy (the matrices are cached and reloaded
when ``PRAGMA data_version`` says another connection wrote). Text search adds
:data:`LEXICAL_BONUS` times the share of the query's words found among an entry's words to
the cosine, so a query naming a tag or a word of a file name puts that file first.

For a layer renderer: :meth:`Library.entries` (filter by tags and descriptor words,
duration, folder, descriptor ranges), :meth:`Library.nearest` (rank by an audio or text
vector, optionally among the ids picked), :meth:`Library.vector`,
:meth:`Library.waveform`, :meth:`Library.read_audio` (mono chunks at any rate).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bassd.dsp.library_features import (
    EMBEDDING_DIM,
    FEATURE_VERSION,
    SAMPLE_RATE,
    WAVEFORM_POINTS,
    FeatureAccumulator,
    SoundFeatures,
)

SCHEMA_VERSION = 1
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff"})
LEXICAL_BONUS = 0.25
BUSY_TIMEOUT_S = 30.0
_HASH_BLOCK = 1 << 20
_WORD = re.compile(r"[a-z0-9#]+")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    format TEXT NOT NULL,
    sample_rate INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    duration_s REAL NOT NULL,
    loudness_lufs REAL,
    peak_dbfs REAL,
    centroid_hz REAL NOT NULL,
    flatness REAL NOT NULL,
    tonality REAL NOT NULL,
    onset_rate REAL NOT NULL,
    tempo_bpm REAL,
    music_key TEXT,
    key_r REAL,
    tags TEXT NOT NULL DEFAULT '[]',
    auto_tags TEXT NOT NULL DEFAULT '[]',
    waveform BLOB NOT NULL,
    audio_vec BLOB NOT NULL,
    text_vec BLOB,
    text_model TEXT,
    feature_version INTEGER NOT NULL,
    indexed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_hash ON entries (content_hash);
"""

_FEATURE_COLUMNS = ("format", "sample_rate", "channels", "duration_s", "loudness_lufs",
                    "peak_dbfs", "centroid_hz", "flatness", "tonality", "onset_rate",
                    "tempo_bpm", "music_key", "key_r", "auto_tags", "waveform", "audio_vec",
                    "feature_version")  # fmt: skip
_LIST_COLUMNS = ("id, path, size, mtime_ns, content_hash, format, sample_rate, channels, "
                 "duration_s, loudness_lufs, peak_dbfs, centroid_hz, flatness, tonality, "
                 "onset_rate, tempo_bpm, music_key, key_r, tags, auto_tags, text_model, "
                 "feature_version, indexed_at")  # fmt: skip


_RANGE_COLUMNS = ("duration_s", "loudness_lufs", "peak_dbfs", "centroid_hz", "flatness",
                  "tonality", "onset_rate", "tempo_bpm", "sample_rate", "channels")  # fmt: skip


class LibraryError(ValueError):
    """A library operation that cannot be done; the message names the entry or file."""


def default_path() -> Path:
    """``$XDG_DATA_HOME/bassd/library.sqlite`` (``~/.local/share/bassd/...`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "bassd" / "library.sqlite"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def words(text: str) -> list[str]:
    """Lower-case words of a text or file name (``rain_on-tin.roof`` -> rain, on, tin, roof)."""
    return _WORD.findall(text.lower().replace("_", " "))


def entry_text(path: str, tags: Sequence[str], auto: Sequence[str]) -> str:
    """What is embedded for text search: the file name's words, the tags, the descriptor
    words (``"rain on tin roof. tags: night, calm. sounds: noise, steady"``)."""
    name = " ".join(words(Path(path).stem))
    text = name
    if tags:
        text += ". tags: " + ", ".join(tags)
    if auto:
        text += ". sounds: " + ", ".join(auto)
    return text


def file_hash(path: Path) -> str:
    """BLAKE2b (128-bit digest) of the file's bytes, read 1 MB at a time."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(_HASH_BLOCK):
            h.update(block)
    return h.hexdigest()


def _blob(v: np.ndarray) -> bytes:
    return np.ascontiguousarray(v, dtype=np.float32).tobytes()


def _vec(b: bytes | None, dim: int) -> np.ndarray | None:
    if b is None:
        return None
    v = np.frombuffer(b, dtype=np.float32)
    return v if v.size == dim else None


def _wave_blob(w: np.ndarray) -> bytes:
    q = np.clip(np.round(np.asarray(w, dtype=np.float64) * 32767.0), -32767, 32767)
    return q.astype("<i2").tobytes()


@dataclass
class Entry:
    """One indexed file (its vectors and waveform are read separately)."""

    id: int
    path: str
    size: int
    mtime_ns: int
    content_hash: str
    format: str
    sample_rate: int
    channels: int
    descriptors: dict[str, Any]
    tags: list[str]
    auto_tags: list[str]
    text_model: str | None
    feature_version: int
    indexed_at: str

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def duration_s(self) -> float:
        return float(self.descriptors["duration_s"])

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "name": self.name, "size": self.size,
                "content_hash": self.content_hash, "format": self.format,
                "sample_rate": self.sample_rate, "channels": self.channels,
                **self.descriptors, "tags": self.tags, "auto_tags": self.auto_tags,
                "text_model": self.text_model, "indexed_at": self.indexed_at}  # fmt: skip

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> Entry:
        desc = {k: r[k] for k in ("duration_s", "loudness_lufs", "peak_dbfs", "centroid_hz",
                                  "flatness", "tonality", "onset_rate", "tempo_bpm")}  # fmt: skip
        desc["key"] = r["music_key"]
        desc["key_r"] = r["key_r"]
        return cls(r["id"], r["path"], r["size"], r["mtime_ns"], r["content_hash"], r["format"],
                   r["sample_rate"], r["channels"], desc, json.loads(r["tags"]),
                   json.loads(r["auto_tags"]), r["text_model"], r["feature_version"],
                   r["indexed_at"])  # fmt: skip


@dataclass
class Hit:
    """A search or similarity result."""

    id: int
    path: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "score": round(self.score, 4)}


class Library:
    """A connection to a library file (created on first open). Safe to share between
    threads (one lock); any number of processes may open the same file."""

    def __init__(self, path: Path | str | None = None, *, timeout: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self.db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None,
                                      check_same_thread=False)  # fmt: skip
            self.db.row_factory = sqlite3.Row
            self.db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            mode = self._wal(timeout)
            if str(mode).lower() != "wal":
                raise LibraryError(f"{self.path}: cannot use WAL mode (journal_mode {mode})")
            self.db.execute("PRAGMA synchronous = NORMAL")  # WAL: a crash loses no commit
            self._create()
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"{self.path}: not a usable library ({exc})") from None
        self._cache: dict[str, tuple[int, list[int], list[str], np.ndarray]] = {}
        self._words: tuple[int, dict[str, np.ndarray], list[int]] | None = None

    def _wal(self, timeout: float) -> str:
        """Switch the file to WAL (persistent: once per file). SQLite does not call the busy
        handler for that switch, so two processes opening a new library at once saw
        "database is locked" at once (test_two_indexers_at_once, in a full run): retried here
        until ``timeout``."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                return str(self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(0.2, delay * 2)

    def _create(self) -> None:
        with self.transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise LibraryError(f"{self.path}: schema {row[0]}, this bassd reads "
                                   f"{SCHEMA_VERSION}")  # fmt: skip

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any error)."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------

    def _version(self) -> int:
        """Changes whenever any connection (this one included) commits a change."""
        v = self.db.execute("PRAGMA data_version").fetchone()[0]
        return int(v) * 1_000_003 + self.db.total_changes

    def count(self) -> int:
        with self._lock:
            return int(self.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def get(self, entry_id: int) -> Entry:
        with self._lock:
            r = self.db.execute(f"SELECT {_LIST_COLUMNS} FROM entries WHERE id = ?",
                                (int(entry_id),)).fetchone()  # fmt: skip
        if r is None:
            raise LibraryError(f"no library entry {entry_id}")
        return Entry.from_row(r)

    def by_path(self, path: Path | str) -> Entry | None:
        with self._lock:
            r = self.db.execute(f"SELECT {_LIST_COLUMNS} FROM entries WHERE path = ?",
                                (str(Path(path).absolute()),)).fetchone()  # fmt: skip
        return Entry.from_row(r) if r is not None else None

    def resolve(self, ref: str | int) -> Entry:
        """An entry by id (digits) or by path; :class:`LibraryError` naming it otherwise."""
        text = str(ref).strip()
        if text.isdigit():
            with contextlib.suppress(LibraryError):
                return self.get(int(text))
        entry = self.by_path(text)
        if entry is None:
            raise LibraryError(f"{text}: not in the library (give an id or an indexed path)")
        return entry

    def entries(
        self,
        *,
        tags: Sequence[str] = (),
        min_duration: float | None = None,
        max_duration: float | None = None,
        under: Path | str | None = None,
        ranges: dict[str, tuple[float | None, float | None]] | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries in id order, with every tag of ``tags`` (user or descriptor words), a
        duration in range, a path under ``under`` and each descriptor of ``ranges`` within
        its (low, high) bounds (None: open; an entry without the descriptor is left out),
        e.g. ``ranges={"tonality": (0.5, None), "loudness_lufs": (-30, -15)}``."""
        sql = f"SELECT {_LIST_COLUMNS} FROM entries WHERE 1=1"
        args: list[Any] = []
        for name, (low, high) in (ranges or {}).items():
            if name not in _RANGE_COLUMNS:
                raise LibraryError(f"no descriptor {name!r} (one of {', '.join(_RANGE_COLUMNS)})")
            if low is not None:
                sql, args = sql + f" AND {name} >= ?", [*args, float(low)]
            if high is not None:
                sql, args = sql + f" AND {name} <= ?", [*args, float(high)]
        if min_duration is not None:
            sql, args = sql + " AND duration_s >= ?", [*args, float(min_duration)]
        if max_duration is not None:
            sql, args = sql + " AND duration_s <= ?", [*args, float(max_duration)]
        if under is not None:
            base = str(Path(under).absolute()).rstrip("/") + "/"
            sql, args = sql + " AND substr(path, 1, ?) = ?", [*args, len(base), base]
        with self._lock:
            rows = self.db.execute(sql + " ORDER BY id", args).fetchall()
        out = [Entry.from_row(r) for r in rows]
        want = {t.lower() for t in tags}
        if want:
            out = [e for e in out if want <= {t.lower() for t in (*e.tags, *e.auto_tags)}]
        return out[:limit] if limit is not None else out

    def waveform(self, entry_id: int) -> np.ndarray:
        """The entry's (512, 2) float32 waveform overview: min and max per point."""
        with self._lock:
            r = self.db.execute("SELECT waveform FROM entries WHERE id = ?",
                                (int(entry_id),)).fetchone()  # fmt: skip
        if r is None:
            raise LibraryError(f"no library entry {entry_id}")
        w = np.frombuffer(r[0], dtype="<i2").astype(np.float32) / 32767.0
        return w.reshape(WAVEFORM_POINTS, 2)

    def vector(self, entry_id: int, kind: str = "audio") -> np.ndarray | None:
        """The entry's audio or text embedding (None: no text embedding)."""
        col = "audio_vec" if kind == "audio" else "text_vec"
        dim = EMBEDDING_DIM if kind == "audio" else None
        with self._lock:
            r = self.db.execute(f"SELECT {col} FROM entries WHERE id = ?",
                                (int(entry_id),)).fetchone()  # fmt: skip
        if r is None:
            raise LibraryError(f"no library entry {entry_id}")
        if r[0] is None:
            return None
        v = np.frombuffer(r[0], dtype=np.float32)
        return v if dim is None or v.size == dim else None

    def read_audio(
        self, entry_id: int, sample_rate: int = 48000, *, block_frames: int = 65536
    ) -> Iterator[np.ndarray]:
        """The entry's audio as mono float64 chunks at ``sample_rate`` (bounded memory)."""
        from bassd.app.audio_stream import iter_mono

        return iter_mono(self.get(entry_id).path, sample_rate, block_frames=block_frames)

    def matrix(self, kind: str = "audio") -> tuple[list[int], list[str], np.ndarray]:
        """Ids, paths and the (n, dim) float32 matrix of every entry with a ``kind``
        vector; cached until a connection writes."""
        col = "audio_vec" if kind == "audio" else "text_vec"
        with self._lock:
            version = self._version()
            hit = self._cache.get(kind)
            if hit is not None and hit[0] == version:
                return hit[1], hit[2], hit[3]
            rows = self.db.execute(f"SELECT id, path, {col} FROM entries WHERE {col} IS NOT NULL "
                                   "ORDER BY id").fetchall()  # fmt: skip
        dims = {len(r[2]) // 4 for r in rows}
        dim = max(dims, key=lambda d: sum(len(r[2]) // 4 == d for r in rows)) if dims else 0
        keep = [r for r in rows if len(r[2]) // 4 == dim]  # one model's rows
        ids = [int(r[0]) for r in keep]
        paths = [str(r[1]) for r in keep]
        mat = (np.frombuffer(b"".join(r[2] for r in keep), dtype=np.float32).reshape(len(keep), dim)
               if keep else np.zeros((0, dim), dtype=np.float32))  # fmt: skip
        with self._lock:
            self._cache[kind] = (version, ids, paths, mat)
        return ids, paths, mat

    def nearest(
        self, vector: np.ndarray, *, kind: str = "audio", top: int = 5,
        exclude: Iterable[int] = (), among: Iterable[int] | None = None,
    ) -> list[Hit]:  # fmt: skip
        """The ``top`` entries whose ``kind`` ("audio" or "text") vector is nearest
        ``vector`` (cosine), leaving out ``exclude``; with ``among``, only those ids (e.g.
        what :meth:`entries` picked by tags and descriptors)."""
        ids, paths, mat = self.matrix(kind)
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        if mat.shape[0] == 0 or v.size != mat.shape[1]:
            return []
        n = float(np.linalg.norm(v))
        scores = mat @ (v / n if n > 0 else v)
        if among is not None:
            keep = np.isin(np.asarray(ids, dtype=np.int64), np.fromiter(among, dtype=np.int64))
            scores = np.where(keep, scores, -np.inf)
            top = min(int(top), int(keep.sum()))
        return _top(ids, paths, scores, top, set(exclude))

    def similar(self, ref: str | int, top: int = 5) -> list[Hit]:
        """Entries sounding most like an entry (id or indexed path) or any audio file (its
        features are computed now, nothing is stored)."""
        text = str(ref).strip()
        entry: Entry | None = None
        try:
            entry = self.resolve(text)
        except LibraryError:
            if not Path(text).is_file():
                raise
        if entry is not None:
            v = self.vector(entry.id)
            if v is None:
                raise LibraryError(f"entry {entry.id} has no audio embedding")
            return self.nearest(v, top=top, exclude={entry.id})
        _info, feats = analyse_file(Path(text))
        return self.nearest(feats.embedding, top=top)

    def _entry_words(self) -> tuple[dict[str, np.ndarray], list[int]]:
        """Word -> the ids of the entries with it (name, tags, descriptor words), and every
        id; cached until a connection writes."""
        with self._lock:
            version = self._version()
            if self._words is not None and self._words[0] == version:
                return self._words[1], self._words[2]
            rows = self.db.execute("SELECT id, path, tags, auto_tags FROM entries").fetchall()
        table: dict[str, list[int]] = {}
        for r in rows:
            w = set(words(Path(r[1]).stem))
            for t in (*json.loads(r[2]), *json.loads(r[3])):
                w |= set(words(t))
            for word in w:
                table.setdefault(word, []).append(int(r[0]))
        all_ids = [int(r[0]) for r in rows]
        arrays = {w: np.asarray(v, dtype=np.int64) for w, v in table.items()}
        with self._lock:
            self._words = (version, arrays, all_ids)
        return arrays, all_ids

    def search(self, text: str, vector: np.ndarray | None = None, top: int = 5) -> list[Hit]:
        """Entries best matching ``text``: the cosine of ``vector`` (the text's embedding;
        None: words only) with each entry's text embedding, plus :data:`LEXICAL_BONUS`
        times the share of the text's words that are the entry's words."""
        q = set(words(text))
        table, all_ids = self._entry_words()
        if vector is not None:
            ids, paths, mat = self.matrix("text")
            v = np.asarray(vector, dtype=np.float32).reshape(-1)
            scores: np.ndarray  # float32 from here, float64 once the lexical bonus is added
            if mat.shape[0] and v.size == mat.shape[1]:
                scores = mat @ v
            else:
                scores = np.zeros(len(ids), dtype=np.float32)
        else:
            ids, paths, scores = [], [], np.zeros(0, dtype=np.float32)
        missing = (sorted(set(all_ids) - set(ids)) if len(all_ids) != len(ids)
                   else [])  # fmt: skip  # entries without a text vector: words only
        if missing:
            with self._lock:
                marks = ",".join("?" * len(missing))
                rows = self.db.execute(f"SELECT id, path FROM entries WHERE id IN ({marks})",
                                       missing).fetchall()  # fmt: skip
            ids = [*ids, *(int(r[0]) for r in rows)]
            paths = [*paths, *(str(r[1]) for r in rows)]
            scores = np.concatenate([scores, np.zeros(len(rows), dtype=np.float32)])
        hits = [table[w] for w in q if w in table]
        if hits and ids:
            id_arr = np.asarray(ids, dtype=np.int64)
            pos = np.full(int(id_arr.max()) + 1, -1, dtype=np.int64)
            pos[id_arr] = np.arange(id_arr.size)
            count = np.zeros(id_arr.size, dtype=np.float32)
            for with_word in hits:
                k = pos[with_word[with_word < pos.size]]
                np.add.at(count, k[k >= 0], 1.0)
            scores = scores + LEXICAL_BONUS * count / len(q)
        return _top(ids, paths, np.asarray(scores), top, set())

    # -- writing -----------------------------------------------------------------------

    def put(
        self,
        path: Path,
        st: os.stat_result,
        content_hash: str,
        fmt: str,
        sample_rate: int,
        channels: int,
        feats: SoundFeatures,
        text_vec: np.ndarray | None,
        text_model: str | None,
    ) -> str:
        """Insert or replace the entry of ``path`` (its tags are kept), in one transaction:
        "added", "updated", or "same" when the row already holds these bytes' features
        (another process indexed them meanwhile: nothing is written)."""
        d = feats.descriptors()
        values = {
            "format": fmt, "sample_rate": int(sample_rate), "channels": int(channels),
            "duration_s": float(feats.duration_s), "loudness_lufs": feats.loudness_lufs,
            "peak_dbfs": feats.peak_dbfs, "centroid_hz": d["centroid_hz"],
            "flatness": d["flatness"], "tonality": d["tonality"], "onset_rate": d["onset_rate"],
            "tempo_bpm": d["tempo_bpm"], "music_key": feats.key, "key_r": d["key_r"],
            "auto_tags": json.dumps(feats.auto_tags), "waveform": _wave_blob(feats.waveform),
            "audio_vec": _blob(feats.embedding), "feature_version": FEATURE_VERSION,
        }  # fmt: skip
        return self._put_values(path, st, content_hash, values, text_vec, text_model)

    def _put_values(
        self,
        path: Path,
        st: os.stat_result,
        content_hash: str,
        values: dict[str, Any],
        text_vec: np.ndarray | None,
        text_model: str | None,
    ) -> str:
        cols = ["path", "size", "mtime_ns", "content_hash", *_FEATURE_COLUMNS, "text_vec",
                "text_model", "indexed_at"]  # fmt: skip
        args = [str(path), int(st.st_size), int(st.st_mtime_ns), content_hash,
                *(values[c] for c in _FEATURE_COLUMNS),
                _blob(text_vec) if text_vec is not None else None, text_model, _now()]  # fmt: skip
        update = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
        sql = (f"INSERT INTO entries ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
               f"ON CONFLICT(path) DO UPDATE SET {update}")  # fmt: skip
        with self.transaction() as db:
            old = db.execute("SELECT content_hash, feature_version FROM entries WHERE path = ?",
                             (str(path),)).fetchone()  # fmt: skip
            if old is not None and tuple(old) == (content_hash, values["feature_version"]):
                return "same"  # another process indexed these bytes meanwhile
            db.execute(sql, args)
        return "added" if old is None else "updated"

    def copy_features(
        self, path: Path, st: os.stat_result, source: int, text_vec: np.ndarray | None,
        text_model: str | None,
    ) -> str:  # fmt: skip
        """A new entry for ``path`` with the features of entry ``source`` (same bytes)."""
        with self._lock:
            r = self.db.execute(f"SELECT content_hash, {', '.join(_FEATURE_COLUMNS)} FROM entries "
                                "WHERE id = ?", (source,)).fetchone()  # fmt: skip
        if r is None:
            raise LibraryError(f"no library entry {source}")
        values = {c: r[c] for c in _FEATURE_COLUMNS}
        return self._put_values(path, st, r["content_hash"], values, text_vec, text_model)

    def touch(self, entry_id: int, st: os.stat_result) -> None:
        """Record a new size and mtime for an entry whose bytes did not change."""
        with self.transaction() as db:
            db.execute("UPDATE entries SET size = ?, mtime_ns = ? WHERE id = ?",
                       (int(st.st_size), int(st.st_mtime_ns), int(entry_id)))  # fmt: skip

    def set_text(self, entry_id: int, text_vec: np.ndarray | None, text_model: str | None
                 ) -> None:  # fmt: skip
        with self.transaction() as db:
            db.execute("UPDATE entries SET text_vec = ?, text_model = ? WHERE id = ?",
                       (_blob(text_vec) if text_vec is not None else None, text_model,
                        int(entry_id)))  # fmt: skip

    def set_tags(self, entry_id: int, tags: Sequence[str], text_vec: np.ndarray | None,
                 text_model: str | None) -> Entry:  # fmt: skip
        """Replace an entry's user tags (and its text embedding with them)."""
        clean = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
        with self.transaction() as db:
            n = db.execute("UPDATE entries SET tags = ?, text_vec = ?, text_model = ? "
                           "WHERE id = ?", (json.dumps(clean),
                           _blob(text_vec) if text_vec is not None else None, text_model,
                           int(entry_id))).rowcount  # fmt: skip
        if n == 0:
            raise LibraryError(f"no library entry {entry_id}")
        return self.get(entry_id)

    def remove(self, entry_ids: Iterable[int]) -> int:
        """Delete entries (one transaction); returns how many there were."""
        ids = [int(i) for i in entry_ids]
        if not ids:
            return 0
        with self.transaction() as db:
            marks = ",".join("?" * len(ids))
            return int(db.execute(f"DELETE FROM entries WHERE id IN ({marks})", ids).rowcount)


def _top(ids: list[int], paths: list[str], scores: np.ndarray, top: int, exclude: set[int]
         ) -> list[Hit]:  # fmt: skip
    if not ids:
        return []
    want = max(0, int(top)) + len(exclude)
    if want < len(ids) // 4:  # the best few without sorting everything
        part = np.argpartition(-scores, want)[: want + 1]
        order = part[np.lexsort((part, -scores[part]))]  # by score, ties in id order
    else:
        order = np.argsort(-scores, kind="stable")
    out = []
    for i in order:
        if ids[i] in exclude:
            continue
        out.append(Hit(ids[i], paths[i], float(scores[i])))
        if len(out) >= top:
            break
    return out


# -- indexing ------------------------------------------------------------------------------

#: decodes since the process started (tests assert re-indexing does none)
DECODES = {"count": 0}


def analyse_file(path: Path) -> tuple[Any, SoundFeatures]:
    """Decode ``path`` (any format, rate, channels: :mod:`bassd.app.audio_stream`) and
    compute its :class:`SoundFeatures`. :class:`AudioFileError` names the file."""
    from bassd.app.audio_stream import iter_mono, probe

    DECODES["count"] += 1
    info = probe(path)
    expected = round(info.frames * SAMPLE_RATE / info.sample_rate)
    acc = FeatureAccumulator(expected)
    for chunk in iter_mono(path, SAMPLE_RATE):
        acc.add(chunk)
    return info, acc.finish()


@dataclass
class IndexReport:
    """What one ``library add`` did."""

    added: int = 0  # new entries (decoded, or copied from an entry with the same bytes)
    updated: int = 0  # entries whose file's bytes changed (decoded again)
    unchanged: int = 0  # nothing to do (size and mtime, or the bytes' hash, matched)
    copied: int = 0  # of the added: features taken from an entry with the same hash
    pruned: int = 0  # entries removed because their file is gone (--prune)
    decodes: int = 0  # files decoded and analysed
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    audio_seconds: float = 0.0  # audio decoded
    wall_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "copied": self.copied, "pruned": self.pruned, "decodes": self.decodes,
                "failed": [{"path": p, "reason": r} for p, r in self.failed],
                "audio_seconds": round(self.audio_seconds, 3),
                "wall_seconds": round(self.wall_seconds, 3)}  # fmt: skip


def scan(paths: Iterable[Path | str], report: IndexReport) -> list[Path]:
    """The audio files (by suffix) of ``paths``: files as given, folders recursively, in
    sorted order; a path that does not exist goes to ``report.failed``."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw).absolute()
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for name in sorted(files):
                    if Path(name).suffix.lower() in AUDIO_SUFFIXES and not name.startswith("."):
                        out.append(Path(root) / name)
        elif p.exists():
            out.append(p)
        else:
            report.failed.append((str(p), "no such file or folder"))
    return list(dict.fromkeys(out))


class TextSide:
    """Text embeddings for entries: an embedder (``embed(texts)``, ``name``) or none."""

    def __init__(self, embedder: Any = None) -> None:
        self.embedder = embedder

    @property
    def model(self) -> str | None:
        return getattr(self.embedder, "name", None) if self.embedder is not None else None

    def vector(self, text: str) -> np.ndarray | None:
        if self.embedder is None:
            return None
        return np.asarray(self.embedder.embed([text])[0], dtype=np.float32)


def index_paths(
    library: Library,
    paths: Iterable[Path | str],
    *,
    embedder: Any = None,
    prune: bool = False,
    progress: Callable[[str], None] | None = None,
) -> IndexReport:
    """Index the audio files of ``paths`` into ``library`` (see the module)."""
    from bassd.app.audio_stream import AudioFileError

    say = progress or (lambda _m: None)
    report = IndexReport()
    t0 = time.perf_counter()
    given = [Path(p).absolute() for p in paths]
    files = scan(given, report)
    text = TextSide(embedder)
    for path in files:
        try:
            _index_one(library, path, text, report, say)
        except (AudioFileError, OSError, ValueError) as exc:
            reason = str(exc)
            if reason.startswith(str(path)):
                reason = reason[len(str(path)) :].lstrip(": ")
            report.failed.append((str(path), reason or type(exc).__name__))
            say(f"skipped {path}: {reason}")
    if prune:
        gone = []
        for folder in (g for g in given if g.is_dir()):
            gone += [e.id for e in library.entries(under=folder) if not Path(e.path).exists()]
        report.pruned = library.remove(gone)
    report.wall_seconds = time.perf_counter() - t0
    return report


def _index_one(
    library: Library, path: Path, text: TextSide, report: IndexReport, say: Callable[[str], None]
) -> None:
    st = path.stat()
    row = library.by_path(path)
    current = row is not None and row.feature_version == FEATURE_VERSION
    if row is not None and current and row.size == st.st_size and row.mtime_ns == st.st_mtime_ns:
        if text.model is not None and row.text_model != text.model:  # a new text model
            library.set_text(row.id, text.vector(entry_text(row.path, row.tags, row.auto_tags)),
                             text.model)  # fmt: skip
        report.unchanged += 1
        return
    digest = file_hash(path)
    if row is not None and current and row.content_hash == digest:
        library.touch(row.id, st)
        report.unchanged += 1
        return
    if row is None:
        with library._lock:
            twin = library.db.execute(
                "SELECT id, auto_tags FROM entries WHERE content_hash = ? AND feature_version = ? "
                "LIMIT 1", (digest, FEATURE_VERSION)).fetchone()  # fmt: skip
        if twin is not None:
            vec = text.vector(entry_text(str(path), [], json.loads(twin[1])))
            if library.copy_features(path, st, int(twin[0]), vec, text.model) == "same":
                report.unchanged += 1
                return
            report.added += 1
            report.copied += 1
            say(f"added {path} (the same bytes as entry {twin[0]})")
            return
    info, feats = analyse_file(path)
    report.decodes += 1
    report.audio_seconds += info.duration_s
    tags = row.tags if row is not None else []
    vec = text.vector(entry_text(str(path), tags, feats.auto_tags))
    how = library.put(path, st, digest, info.format, info.sample_rate, info.channels, feats,
                      vec, text.model)  # fmt: skip
    if how == "same":
        report.unchanged += 1
        return
    if how == "added":
        report.added += 1
    else:
        report.updated += 1
    say(f"{how} {path} ({info.duration_s:.1f} s)")


def load_embedder(model_dir: Path | str | None = None, threads: int = 1) -> tuple[Any, str]:
    """The text embedder, or ``(None, why)`` when the model cannot load (search then
    matches words only)."""
    try:
        from bassd.models.text_embed import TextEmbedder

        return TextEmbedder(model_dir, threads=threads), ""
    except Exception as exc:  # not installed, incomplete folder, torch missing
        return None, f"{type(exc).__name__}: {exc}"
