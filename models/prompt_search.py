"""Semantic search over the prompt bank with all-MiniLM-L6-v2 (:mod:`bassd.models.text_embed`).

Each prompt is embedded as ``"<text>. mood: <mood>. instruments: <a, b, ...>"``
(:func:`embed_text`): the prompt's text plus its mood words and instruments, so a query
naming an instrument or a feeling the text leaves implicit still lands. Scores are cosines
(dot products of unit vectors), in [-1, 1].

* :class:`PromptIndex`: ids, embedded texts, ``(n, 384)`` embeddings; ``search``/``match``.
  :meth:`PromptIndex.build` reads the embeddings from an on-disk cache keyed by the sha256
  of the model name and the embedded texts (default ``$XDG_CACHE_HOME/bassd/embeddings``,
  else ``~/.cache/bassd/embeddings``), written atomically (temporary file + ``os.replace``);
  a cache file that cannot be read or does not match is ignored and rewritten.
* :func:`match` semantics: the best prompt, its score and whether the score reaches
  :data:`SEARCH_THRESHOLD`; below it the caller plays the free text itself.
* :class:`SearchService`: the daemon's client of a spawned worker process that holds the
  model (torch stays out of the daemon). ``start()``, ``poll()`` and ``query()`` never block.

Threads: a :class:`SearchService` is used from one thread (the daemon's loop); callbacks run
inside ``poll()`` on that thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import multiprocessing as mp
import os
import queue
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from bassd.control.prompt_schema import Prompt

#: the cosine at or above which a free text is taken to mean a bank prompt. Measured on the
#: shipped bank with tests/models/prompt_paraphrases.csv (45 paraphrases): the correct top-1
#: matches score 0.50-0.85 (median 0.70); the one miss scores 0.449; music the bank does not
#: hold ("heavy metal with screaming vocals") reaches 0.38 and non-music text ("turn the
#: lights off", "recipe for banana bread") at most 0.25. 0.45 sits between: every correct
#: paraphrase matches, the miss and unrelated text fall back to the free text itself.
SEARCH_THRESHOLD = 0.45
CACHE_VERSION = 1
LOAD_SECONDS = 120.0  # a worker not ready by then has failed

log = structlog.get_logger("bassd.search")


def embed_text(prompt: Prompt) -> str:
    """The text embedded for a prompt: its text, mood words and instruments."""
    return f"{prompt.text}. mood: {prompt.mood}. instruments: {', '.join(prompt.instruments)}"


def bank_entries(prompts: Iterable[Prompt]) -> list[tuple[str, str]]:
    """``(id, embedded text)`` per prompt, in bank order."""
    return [(p.id, embed_text(p)) for p in prompts]


def content_hash(texts: Sequence[str], model_name: str) -> str:
    """sha256 of the model name and the embedded texts (the cache key)."""
    h = hashlib.sha256(f"bassd-prompt-embeddings/{CACHE_VERSION}\0{model_name}\0".encode())
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/bassd/embeddings`` (``~/.cache/bassd/embeddings`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bassd" / "embeddings"


def cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"prompts-{key[:32]}.npz"


def _read_cache(path: Path, key: str, ids: Sequence[str], dim: int) -> np.ndarray | None:
    """The cached embeddings, or None when the file is missing, unreadable or another bank's."""
    try:
        with np.load(path, allow_pickle=False) as z:
            stored_key = str(z["key"])
            stored_ids = [str(x) for x in z["ids"]]
            emb = np.asarray(z["embeddings"], dtype=np.float32)
    except Exception:  # missing, truncated, not an npz, fields absent: rebuild
        return None
    if stored_key != key or stored_ids != list(ids) or emb.shape != (len(ids), dim):
        return None
    if not np.all(np.isfinite(emb)):
        return None
    return emb


def _write_cache(path: Path, key: str, ids: Sequence[str], emb: np.ndarray) -> bool:
    """Write atomically (a temporary file in the same folder, then os.replace)."""
    buf = io.BytesIO()
    np.savez(buf, key=np.array(key), ids=np.array(list(ids)), embeddings=emb)
    tmp = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".prompts-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False


class PromptIndex:
    """The bank's prompts as unit vectors; cosine search by vector or by text."""

    def __init__(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        embeddings: np.ndarray,
        embedder: Any = None,
        *,
        cached: bool = False,
        key: str = "",
    ) -> None:
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != len(ids) or len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids, {len(texts)} texts, embeddings {emb.shape}")
        self.ids = list(ids)
        self.texts = list(texts)
        self.embeddings = emb
        self.embedder = embedder  # a TextEmbedder, for searches by text
        self.cached = cached  # the embeddings came from the cache
        self.key = key

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(
        cls,
        prompts: Iterable[Prompt] | Sequence[tuple[str, str]],
        embedder: Any,
        *,
        cache_dir: Path | str | None = None,
        use_cache: bool = True,
    ) -> PromptIndex:
        """Embed the prompts (``Prompt`` objects or ``(id, text)`` pairs), through the cache."""
        entries = [p if isinstance(p, tuple) else (p.id, embed_text(p)) for p in prompts]
        if not entries:
            raise ValueError("no prompts to index")
        ids = [i for i, _ in entries]
        texts = [t for _, t in entries]
        key = content_hash(texts, embedder.name)
        path = cache_path(Path(cache_dir) if cache_dir else default_cache_dir(), key)
        if use_cache:
            emb = _read_cache(path, key, ids, embedder.dim)
            if emb is not None:
                return cls(ids, texts, emb, embedder, cached=True, key=key)
        emb = embedder.embed(texts)
        if use_cache:
            _write_cache(path, key, ids, emb)
        return cls(ids, texts, emb, embedder, cached=False, key=key)

    def _vector(self, query: str | np.ndarray) -> np.ndarray:
        if isinstance(query, str):
            if self.embedder is None:
                raise ValueError("this index has no embedder: search with a vector")
            return np.asarray(self.embedder.embed([query])[0], dtype=np.float32)
        v = np.asarray(query, dtype=np.float32).reshape(-1)
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else v

    def search(self, query: str | np.ndarray, top: int = 5) -> list[tuple[str, float]]:
        """The ``top`` best ``(id, cosine)``, best first (ties in bank order)."""
        scores = self.embeddings @ self._vector(query)
        order = np.argsort(-scores, kind="stable")[: max(0, int(top))]
        return [(self.ids[i], float(scores[i])) for i in order]

    def match(self, text: str, threshold: float = SEARCH_THRESHOLD) -> tuple[str, float, bool]:
        """``(best id, its score, score >= threshold)`` for a free text."""
        return match_of(self.search(text, top=1), threshold)


def match_of(
    results: Sequence[tuple[str, float]], threshold: float = SEARCH_THRESHOLD
) -> tuple[str, float, bool]:
    """The match a result list gives: its best ``(id, score, score >= threshold)``."""
    if not results:
        return "", 0.0, False
    best_id, score = results[0]
    return best_id, score, score >= threshold


# -- the worker process -------------------------------------------------------------------


def search_worker_main(requests: Any, replies: Any, settings: dict[str, Any]) -> None:
    """The worker's entry point (a spawned process): load, say ready, answer queries."""
    from bassd.engine.child_process import leave_lifetime_to_parent

    leave_lifetime_to_parent()
    # background work: the loading (torch, 90 MB of weights) and the queries run only on
    # CPU time nothing else wants, so the daemon's loop and the audio never wait for them
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    with contextlib.suppress(OSError):
        os.nice(19)
    parent = os.getppid()
    try:
        from bassd.models.text_embed import TextEmbedder

        embedder = TextEmbedder(settings.get("model_dir"), threads=settings.get("threads", 1))
        index = PromptIndex.build(
            [tuple(e) for e in settings["entries"]],
            embedder,
            cache_dir=settings.get("cache_dir"),
            use_cache=settings.get("use_cache", True),
        )
    except Exception as exc:
        replies.put(("failed", f"{type(exc).__name__}: {exc}"))
        return
    cold = time.time() - float(settings.get("spawned_wall", time.time()))
    replies.put(("ready", {"cold_start_s": cold, "cached": index.cached, "pid": os.getpid(),
                           "prompts": len(index)}))  # fmt: skip
    while True:
        try:
            req = requests.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:
                return  # the daemon is gone
            continue
        if req is None:
            return
        if req[0] == "embed":  # a text's vector (the sound library's text search)
            _, qid, text = req
            t0 = time.perf_counter()
            try:
                vec = embedder.embed([str(text)])[0]
            except Exception as exc:
                replies.put(("error", qid, f"{type(exc).__name__}: {exc}"))
                continue
            replies.put(("vector", qid, vec.tolist(), time.perf_counter() - t0))
            continue
        _, qid, text, top = req
        t0 = time.perf_counter()
        try:
            results = index.search(str(text), int(top))
        except Exception as exc:
            replies.put(("error", qid, f"{type(exc).__name__}: {exc}"))
            continue
        replies.put(("results", qid, results, time.perf_counter() - t0))


@dataclass
class SearchReply:
    """What a query's callback receives."""

    qid: int
    text: str
    results: list[tuple[str, float]] = field(default_factory=list)
    worker_s: float = 0.0  # embedding + search inside the worker
    round_trip_s: float = 0.0  # query() -> the poll() that delivered it
    error: str = ""  # set when there are no results (worker failed, closed, bad query)
    vector: list[float] | None = None  # an embed() request's answer: the text's embedding

    @property
    def ok(self) -> bool:
        return not self.error

    def match(self, threshold: float = SEARCH_THRESHOLD) -> tuple[str, float, bool]:
        return match_of(self.results, threshold)


Callback = Callable[[SearchReply], None]


@dataclass
class _Pending:
    qid: int
    text: str
    top: int
    callback: Callback | None
    asked_at: float
    kind: str = "query"  # or "embed"


class SearchService:
    """The daemon side of the search worker: spawn, queries, replies, figures, close.

    Queries made while the worker loads are held and sent once it is ready; while the
    service is ``failed`` (or closed) a query's callback is answered at once with
    ``error`` saying so. ``start()`` after a failure starts a fresh worker.
    """

    def __init__(
        self,
        prompts: Iterable[Prompt],
        *,
        model_dir: Path | str | None = None,
        cache_dir: Path | str | None = None,
        use_cache: bool = True,
        threads: int = 1,
        load_seconds: float = LOAD_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.entries = bank_entries(prompts)
        self.model_dir = str(model_dir) if model_dir is not None else None
        self.cache_dir = str(cache_dir) if cache_dir is not None else None
        self.use_cache = use_cache
        self.threads = threads
        self.load_seconds = load_seconds
        self.clock = clock
        self.state = "idle"  # idle -> loading -> ready | failed; closed
        self.reason = ""
        self.worker_info: dict[str, Any] = {}
        self.pid: int | None = None
        self._proc: Any = None
        self._requests: Any = None
        self._replies: Any = None
        self._starter: threading.Thread | None = None
        self._start_error = ""
        self._spawned_at = 0.0
        self._zombies: list[Any] = []
        self._next_qid = 0
        self._held: deque[_Pending] = deque()  # asked before ready
        self._sent: dict[int, _Pending] = {}
        self._round_trips: deque[float] = deque(maxlen=1000)
        self.queries = 0  # answered with results

    # -- life --------------------------------------------------------------------------

    def start(self) -> None:
        """Spawn the worker (on a thread of its own: this returns at once)."""
        if self.state in ("loading", "ready"):
            return
        self._discard_worker()
        ctx = mp.get_context("spawn")
        self._requests, self._replies = ctx.Queue(), ctx.Queue()
        settings = {
            "entries": self.entries, "model_dir": self.model_dir, "cache_dir": self.cache_dir,
            "use_cache": self.use_cache, "threads": self.threads, "spawned_wall": time.time(),
        }  # fmt: skip
        self._proc = ctx.Process(
            target=search_worker_main,
            args=(self._requests, self._replies, settings),
            name="bassd-search",
            daemon=True,
        )
        self._start_error = ""
        self._starter = threading.Thread(
            target=self._start_process, args=(self._proc,), name="bassd-search-start", daemon=True
        )
        self._starter.start()
        self._spawned_at = self.clock()
        self.state, self.reason, self.worker_info = "loading", "", {}

    def _start_process(self, proc: Any) -> None:
        try:
            proc.start()
        except Exception as exc:  # reported by the next poll
            self._start_error = f"{type(exc).__name__}: {exc}"

    def _discard_worker(self) -> None:
        """Kill the worker (if any) without waiting; a process not reaped yet is kept."""
        if self._starter is not None:
            self._starter.join()  # a start in flight finishes first (milliseconds)
            self._starter = None
        proc, self._proc = self._proc, None
        if proc is not None and getattr(proc, "_popen", None) is None:
            proc = None  # never started
        if proc is not None and proc.is_alive():
            proc.kill()
        for q in (self._requests, self._replies):
            if q is not None:
                with contextlib.suppress(Exception):
                    q.close()
                    q.cancel_join_thread()
        self._requests = self._replies = None
        if proc is not None:
            proc.join(timeout=0)
            if proc.exitcode is None:
                self._zombies.append(proc)
        self.pid = None

    def _fail(self, why: str) -> None:
        self._discard_worker()
        self.state, self.reason = "failed", why
        self._answer_all_with(f"search worker failed: {why}")

    def _answer_all_with(self, error: str) -> None:
        waiting = [*self._held, *self._sent.values()]
        self._held.clear()
        self._sent.clear()
        for p in waiting:
            self._call(p, SearchReply(p.qid, p.text, error=error))

    @staticmethod
    def _call(p: _Pending, reply: SearchReply) -> None:
        if p.callback is None:
            return
        try:
            p.callback(reply)
        except Exception as exc:  # a caller's bug must not stop the daemon's loop
            log.error("search_callback_failed", qid=p.qid, error=f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Stop the worker (asked, then killed) and reap it; held queries get an error."""
        if self._requests is not None:
            with contextlib.suppress(Exception):
                self._requests.put_nowait(None)
        if self._starter is not None:
            self._starter.join()
        proc = self._proc
        if proc is not None and getattr(proc, "_popen", None) is not None:
            proc.join(timeout=2.0)
        self._discard_worker()
        for p in self._zombies:
            p.join(timeout=1.0)
        self._zombies = [p for p in self._zombies if p.exitcode is None]
        self._answer_all_with("search service closed")
        self.state = "closed"

    # -- queries -----------------------------------------------------------------------

    def query(self, text: str, top: int = 5, callback: Callback | None = None) -> int:
        """Ask for the ``top`` prompts nearest ``text``; the reply goes to ``callback``
        from a later ``poll()`` (at once, with an error, when the service cannot answer)."""
        return self._ask(text, int(top), callback, "query")

    def embed(self, text: str, callback: Callback | None = None) -> int:
        """Ask for the embedding of ``text`` (the reply's ``vector``), like :meth:`query`:
        the sound library's text search uses the model this worker holds."""
        return self._ask(text, 0, callback, "embed")

    def _ask(self, text: str, top: int, callback: Callback | None, kind: str) -> int:
        """Send now (ready), hold until the model is loaded (loading), else answer at once."""
        self._next_qid += 1
        p = _Pending(self._next_qid, text, top, callback, self.clock(), kind=kind)
        if self.state == "ready":
            self._send(p)
        elif self.state == "loading":
            self._held.append(p)
        else:
            why = f": {self.reason}" if self.reason else ""
            self._call(p, SearchReply(p.qid, text, error=f"search is {self.state}{why}"))
        return p.qid

    def _send(self, p: _Pending) -> None:
        try:
            if p.kind == "embed":
                self._requests.put(("embed", p.qid, p.text))
            else:
                self._requests.put(("query", p.qid, p.text, p.top))
        except Exception as exc:
            self._call(p, SearchReply(p.qid, p.text, error=f"cannot send the query: {exc}"))
            return
        self._sent[p.qid] = p

    def poll(self) -> None:
        """Look at the worker: start errors, replies (callbacks run here), death, deadline."""
        if self._zombies:
            self._zombies = [p for p in self._zombies if p.join(0) or p.exitcode is None]
        if self._proc is None:
            return
        if self._starter is not None:
            if self._starter.is_alive():
                return  # still starting
            self._starter = None
            if self._start_error:
                self._fail(f"could not start the worker: {self._start_error}")
                return
            self.pid = self._proc.pid
        self._drain()
        if self._proc is None:
            return
        if not self._proc.is_alive():
            self._drain()  # what it said before it went
            if self._proc is not None:
                self._fail(f"worker exited (code {self._proc.exitcode})")
            return
        if self.state == "loading" and self.clock() - self._spawned_at > self.load_seconds:
            self._fail(f"not ready after {self.load_seconds:g} s")

    def _drain(self) -> None:
        while self._replies is not None:
            try:
                msg = self._replies.get_nowait()
            except (queue.Empty, OSError, EOFError, ValueError):
                return
            self._handle(msg)

    def _handle(self, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "ready":
            self.worker_info = dict(msg[1])
            self.state = "ready"
            held, self._held = list(self._held), deque()
            for waiting in held:
                self._send(waiting)
        elif kind == "failed":
            self._fail(str(msg[1]))
        elif kind == "vector":
            p = self._sent.pop(int(msg[1]), None)
            if p is not None:
                rt = self.clock() - p.asked_at
                self._call(p, SearchReply(p.qid, p.text, worker_s=float(msg[3]), round_trip_s=rt,
                                          vector=[float(x) for x in msg[2]]))  # fmt: skip
        elif kind in ("results", "error"):
            p = self._sent.pop(int(msg[1]), None)
            if p is None:
                return
            rt = self.clock() - p.asked_at
            if kind == "error":
                self._call(p, SearchReply(p.qid, p.text, error=str(msg[2]), round_trip_s=rt))
                return
            results = [(str(i), float(s)) for i, s in msg[2]]
            self.queries += 1
            self._round_trips.append(rt)
            self._call(p, SearchReply(p.qid, p.text, results, float(msg[3]), rt))

    @property
    def waiting(self) -> int:
        """Queries asked and not answered yet."""
        return len(self._held) + len(self._sent)

    def figures(self) -> dict[str, Any]:
        """Status figures: state, cold start (spawn -> ready, s), queries, round trip ms."""
        rts = np.asarray(self._round_trips, dtype=np.float64) * 1000.0
        cold = self.worker_info.get("cold_start_s")
        return {
            "search_state": self.state,
            "search_cold_start_s": round(float(cold), 3) if cold is not None else None,
            "search_cached": self.worker_info.get("cached"),
            "search_queries": self.queries,
            "search_p50_ms": round(float(np.percentile(rts, 50)), 2) if rts.size else None,
            "search_p99_ms": round(float(np.percentile(rts, 99)), 2) if rts.size else None,
        }

    def wait_ready(self, timeout: float, interval: float = 0.01) -> bool:
        """Poll until ready or failed (tests, the CLI, benchmarks; not the daemon's loop)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.poll()
            if self.state in ("ready", "failed", "closed"):
                break
            time.sleep(interval)
        return self.state == "ready"
