"""``bassd library``: index folders of audio files, search them by text or by sound, tag,
list and remove entries (:mod:`bassd.app.library`; docs/library.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    lib = sub.add_parser("library", help="your sound files: index, search, similar, tag, list")
    cmds = lib.add_subparsers(dest="library_command", required=True)

    def cmd(name: str, help_text: str, func: Callable[[argparse.Namespace], int]
            ) -> argparse.ArgumentParser:  # fmt: skip
        p = cmds.add_parser(name, help=help_text)
        config_args(p)
        p.add_argument("--db", type=Path, help="the library file (default: library.path)")
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(func=func)
        return p

    p = cmd("add", "index the audio files of folders and files (only what changed)", cmd_add)
    p.add_argument("paths", nargs="+", type=Path, metavar="DIR_OR_FILE")
    p.add_argument("--prune", action="store_true",
                   help="also remove entries under these folders whose file is gone")  # fmt: skip
    p.add_argument("--no-text", action="store_true",
                   help="no text embeddings (search then matches words only)")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no line per file")
    p = cmd("search", "entries whose name, tags or sound words match a text", cmd_search)
    p.add_argument("text")
    p.add_argument("--top", type=int, help="how many (default: library.top)")
    p.add_argument("--no-text", action="store_true", help="match words only (no model)")
    p = cmd("similar", "entries that sound most like an entry or any audio file", cmd_similar)
    p.add_argument("ref", metavar="FILE_OR_ID")
    p.add_argument("--top", type=int, help="how many (default: library.top)")
    p = cmd("tag", "add (or --remove) tags of an entry", cmd_tag)
    p.add_argument("ref", metavar="ID_OR_PATH")
    p.add_argument("tags", nargs="*", metavar="TAG")
    p.add_argument("--remove", action="store_true", help="remove these tags instead")
    p.add_argument("--clear", action="store_true", help="remove every tag first")
    p.add_argument("--no-text", action="store_true", help="do not re-embed the text")
    p = cmd("list", "the entries (with --tag: those with every tag given)", cmd_list)
    p.add_argument("--tag", action="append", default=[], metavar="TAG")
    p.add_argument("--waveform", action="store_true", help="with --json: the 512 min/max pairs")
    p = cmd("remove", "remove entries (by id or path; the files stay)", cmd_remove)
    p.add_argument("refs", nargs="+", metavar="ID_OR_PATH")


def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    from bassd.app.library import Library, LibraryError
    from bassd.cli import _load

    cfg = _load(args)
    path = args.db if args.db is not None else cfg.library.resolved_path()
    try:
        return cfg, Library(path, timeout=cfg.library.busy_timeout_seconds)
    except LibraryError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _embedder(cfg: Any, args: argparse.Namespace) -> Any:
    if getattr(args, "no_text", False):
        return None
    from bassd.app.library import load_embedder
    from bassd.models.search_config import search_available

    why = search_available(cfg.search)
    embedder = None
    if not why:
        embedder, why = load_embedder(cfg.search.model_dir, cfg.search.threads)
    if embedder is None:
        print(f"bassd: no text embeddings ({why}): words only", file=sys.stderr)
    return embedder


def _hits(args: argparse.Namespace, hits: list[Any]) -> int:
    if args.json:
        print(json.dumps([h.as_dict() for h in hits], indent=1))
        return 0
    for h in hits:
        print(f"{h.id:>6}  {h.score:6.3f}  {h.path}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from bassd.app.library import index_paths

    cfg, lib = _open(args)
    embedder = _embedder(cfg, args)
    quiet = args.quiet or args.json

    def say(msg: str) -> None:
        if not quiet:
            print(msg, flush=True)

    with lib:
        report = index_paths(lib, args.paths, embedder=embedder, prune=args.prune, progress=say)
        total = lib.count()
    for path, why in report.failed:
        print(f"bassd: skipped {path}: {why}", file=sys.stderr)
    if args.json:
        print(json.dumps({**report.as_dict(), "entries": total}, indent=1))
        return 0
    minutes = report.wall_seconds / 60.0
    rate = f", {report.audio_seconds / 60.0 / minutes:.1f} min of audio/min" if minutes else ""
    print(f"{report.added} added ({report.copied} copied), {report.updated} updated, "
          f"{report.unchanged} unchanged, {report.pruned} pruned, {len(report.failed)} failed; "
          f"{report.decodes} decoded in {report.wall_seconds:.1f} s{rate}; "
          f"{total} entries in {lib.path}")  # fmt: skip
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    cfg, lib = _open(args)
    embedder = _embedder(cfg, args)
    vec = embedder.embed([args.text])[0] if embedder is not None else None
    with lib:
        return _hits(args, lib.search(args.text, vec, args.top or cfg.library.top))


def cmd_similar(args: argparse.Namespace) -> int:
    from bassd.app.audio_stream import AudioFileError
    from bassd.app.library import LibraryError

    cfg, lib = _open(args)
    with lib:
        try:
            hits = lib.similar(args.ref, args.top or cfg.library.top)
        except (LibraryError, AudioFileError) as exc:
            print(f"bassd: {exc}", file=sys.stderr)
            return 1
        return _hits(args, hits)


def cmd_tag(args: argparse.Namespace) -> int:
    from bassd.app.library import LibraryError, TextSide, entry_text

    cfg, lib = _open(args)
    with lib:
        try:
            entry = lib.resolve(args.ref)
        except LibraryError as exc:
            print(f"bassd: {exc}", file=sys.stderr)
            return 1
        tags = [] if args.clear else list(entry.tags)
        if args.remove:
            drop = {t.lower() for t in args.tags}
            tags = [t for t in tags if t.lower() not in drop]
        else:
            tags += args.tags
        text = TextSide(_embedder(cfg, args))
        clean = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
        vec = text.vector(entry_text(entry.path, clean, entry.auto_tags))
        entry = lib.set_tags(entry.id, clean, vec, text.model if vec is not None else None)
    if args.json:
        print(json.dumps(entry.as_dict(), indent=1))
    else:
        print(f"{entry.id}: {', '.join(entry.tags) or '(no tags)'}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    _cfg, lib = _open(args)
    with lib:
        entries = lib.entries(tags=args.tag)
        if args.json:
            rows = []
            for e in entries:
                d = e.as_dict()
                if args.waveform:
                    d["waveform"] = [[round(float(a), 4), round(float(b), 4)]
                                     for a, b in lib.waveform(e.id)]  # fmt: skip
                rows.append(d)
            print(json.dumps(rows, indent=1))
            return 0
    print(f"{'id':>6} {'seconds':>8} {'LUFS':>6} {'key':>9} {'bpm':>5}  path  [tags]")
    for e in entries:
        d = e.descriptors
        lufs = f"{d['loudness_lufs']:.1f}" if d["loudness_lufs"] is not None else "-"
        bpm = f"{d['tempo_bpm']:.0f}" if d["tempo_bpm"] is not None else "-"
        tags = f"  [{', '.join(e.tags)}]" if e.tags else ""
        print(f"{e.id:>6} {d['duration_s']:>8.1f} {lufs:>6} {d['key'] or '-':>9} {bpm:>5}  "
              f"{e.path}{tags}")  # fmt: skip
    print(f"{len(entries)} entries")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from bassd.app.library import LibraryError

    _cfg, lib = _open(args)
    with lib:
        ids, missing = [], []
        for ref in args.refs:
            try:
                ids.append(lib.resolve(ref).id)
            except LibraryError as exc:
                missing.append(str(exc))
        n = lib.remove(ids)
    for m in missing:
        print(f"bassd: {m}", file=sys.stderr)
    if args.json:
        print(json.dumps({"removed": n, "not_found": missing}))
    else:
        print(f"{n} removed")
    return 1 if missing else 0
