"""The sound library: index speed, and search / similar latency at 1k and 10k entries.

* index speed: a generated folder (tones, coloured noises, click trains; WAV/FLAC/OGG at
  16-48 kHz, mono and stereo; ``--seconds`` each) indexed into a fresh library, without
  text embeddings (decode + features + SQLite) and with them (all-MiniLM-L6-v2 in
  process, one torch thread); files/min and minutes of audio/min; then the same folder
  again (nothing changed: no decode);
* latency: libraries of 1,000 and 10,000 synthetic entries (random unit audio and text
  vectors, made-up names and tags, one transaction each); ``Library.search`` (a query
  vector given: the cosine over every text vector plus the word bonus) and
  ``Library.similar`` (by id) p50/p99 over ``--queries`` each, the first query (the
  matrix read from SQLite) apart; and the query's embedding alone (what the search
  worker adds).

    .venv/bin/python benchmarks/bench_library.py [--files 48] [--seconds 10] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.library_sounds
from _common import single_thread_blas, table, write_results

single_thread_blas()

import numpy as np  # noqa: E402

WORDS = ("rain", "wind", "forest", "river", "drone", "bell", "birds", "night", "sea", "city",
         "hum", "choir", "piano", "stone", "fire", "ice", "metal", "glass", "breath", "storm")  # fmt: skip


def _pct(xs: list[float]) -> tuple[float, float]:
    a = np.asarray(xs) * 1000.0
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def generated_folder(root: Path, files: int, seconds: float) -> float:
    from tests.library_sounds import labelled_set

    per_class = max(1, files // 3)
    labelled_set(root, per_class=per_class, secs=seconds)
    return sum(1 for _ in root.iterdir())


def index_speed(root: Path, embedder: object | None) -> dict:
    from bassd.app.library import Library, index_paths

    with tempfile.TemporaryDirectory() as tmp:
        lib = Library(Path(tmp) / "lib.sqlite")
        rep = index_paths(lib, [root], embedder=embedder)
        again = index_paths(lib, [root], embedder=embedder)
        lib.close()
    minutes = rep.wall_seconds / 60.0
    return {"files": rep.added, "audio_min": rep.audio_seconds / 60.0,
            "wall_s": rep.wall_seconds, "files_per_min": rep.added / minutes,
            "audio_min_per_min": rep.audio_seconds / 60.0 / minutes,
            "reindex_wall_s": again.wall_seconds, "reindex_decodes": again.decodes}  # fmt: skip


def synthetic(path: Path, n: int, seed: int = 0) -> None:
    from bassd.app.library import Library, _blob, _wave_blob
    from bassd.dsp.library_features import EMBEDDING_DIM, FEATURE_VERSION, WAVEFORM_POINTS

    rng = np.random.default_rng(seed)
    lib = Library(path)
    wave = _wave_blob(np.zeros((WAVEFORM_POINTS, 2)))
    st = os.stat(path)
    for i in range(n):
        a = rng.standard_normal(EMBEDDING_DIM).astype(np.float32)
        t = rng.standard_normal(384).astype(np.float32)
        name = "_".join(rng.choice(WORDS, 3))
        values = {"format": "WAV", "sample_rate": 48000, "channels": 2, "duration_s": 30.0,
                  "loudness_lufs": -23.0, "peak_dbfs": -3.0, "centroid_hz": 1000.0,
                  "flatness": 0.3, "tonality": 0.5, "onset_rate": 1.0, "tempo_bpm": None,
                  "music_key": None, "key_r": None, "auto_tags": '["steady"]',
                  "waveform": wave, "audio_vec": _blob(a / np.linalg.norm(a)),
                  "feature_version": FEATURE_VERSION}  # fmt: skip
        lib._put_values(Path(f"/synthetic/{i:05d}_{name}.wav"), st, f"{i:032x}", values,
                        t / np.linalg.norm(t), "synthetic")  # fmt: skip
    lib.close()


def latency(path: Path, queries: int, seed: int = 1) -> dict:
    from bassd.app.library import Library

    rng = np.random.default_rng(seed)
    lib = Library(path)
    n = lib.count()
    vecs = rng.standard_normal((queries, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    texts = [" ".join(rng.choice(WORDS, 2)) for _ in range(queries)]
    t0 = time.perf_counter()
    lib.search(texts[0], vecs[0], 5)
    first_search = time.perf_counter() - t0
    search = []
    for q, v in zip(texts, vecs, strict=True):
        t0 = time.perf_counter()
        lib.search(q, v, 5)
        search.append(time.perf_counter() - t0)
    ids = rng.integers(1, n + 1, queries)
    t0 = time.perf_counter()
    lib.similar(int(ids[0]), 5)
    first_similar = time.perf_counter() - t0
    similar = []
    for i in ids:
        t0 = time.perf_counter()
        lib.similar(int(i), 5)
        similar.append(time.perf_counter() - t0)
    lib.close()
    s50, s99 = _pct(search)
    m50, m99 = _pct(similar)
    return {"entries": n, "search_p50_ms": s50, "search_p99_ms": s99,
            "search_first_ms": first_search * 1e3, "similar_p50_ms": m50,
            "similar_p99_ms": m99, "similar_first_ms": first_similar * 1e3,
            "db_mb": path.stat().st_size / 1e6}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--sizes", default="1000,10000")
    args = ap.parse_args(argv)
    from bassd.app.library import load_embedder

    embedder, why = load_embedder(threads=1)
    rows, speed = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sounds"
        generated_folder(root, args.files, args.seconds)
        speed["features only"] = index_speed(root, None)
        if embedder is not None:
            speed["features + text embedding"] = index_speed(root, embedder)
    for name, r in speed.items():
        rows.append((name, r["files"], r["audio_min"], r["wall_s"], r["files_per_min"],
                     r["audio_min_per_min"], r["reindex_wall_s"], r["reindex_decodes"]))  # fmt: skip
    print(f"index speed ({args.files} files of {args.seconds:g} s; text model: "
          f"{'all-MiniLM-L6-v2' if embedder is not None else why})")  # fmt: skip
    print(table(("run", "files", "audio min", "wall s", "files/min", "audio min/min",
                 "re-index s", "re-index decodes"), rows))  # fmt: skip
    lat = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            db = Path(tmp) / f"syn{size}.sqlite"
            t0 = time.perf_counter()
            synthetic(db, size)
            build = time.perf_counter() - t0
            lat.append({**latency(db, args.queries), "build_s": build})
    embed = []
    if embedder is not None:
        for w in WORDS[: min(len(WORDS), args.queries)]:
            t0 = time.perf_counter()
            embedder.embed([f"{w} at night"])
            embed.append(time.perf_counter() - t0)
    print(f"\nlatency over {args.queries} queries (top 5; first query apart: the matrix read)")
    print(table(("entries", "search p50 ms", "p99", "first", "similar p50 ms", "p99", "first",
                 "db MB", "build s"),
                [(r["entries"], r["search_p50_ms"], r["search_p99_ms"], r["search_first_ms"],
                  r["similar_p50_ms"], r["similar_p99_ms"], r["similar_first_ms"], r["db_mb"],
                  r["build_s"]) for r in lat]))  # fmt: skip
    e50, e99 = _pct(embed) if embed else (None, None)
    if embed:
        print(f"\nquery embedding (all-MiniLM-L6-v2, 1 thread): p50 {e50:.1f} ms, "
              f"p99 {e99:.1f} ms over {len(embed)}")  # fmt: skip
    path = write_results("library", {"files": args.files, "seconds_each": args.seconds,
                                     "index_speed": speed, "latency": lat,
                                     "query_embedding_ms": {"p50": e50, "p99": e99},
                                     "queries": args.queries})  # fmt: skip
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
