"""``bassd prompts search "TEXT" [--top N] [--bank FILE]``: the bank's prompts nearest a
text (all-MiniLM-L6-v2 in this process, embeddings through the on-disk cache).

torch and transformers are imported only inside the command.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``prompts`` and its subcommands on the top-level parser's subparsers."""
    p = sub.add_parser("prompts", help="the prompt bank: semantic search")
    p.set_defaults(func=cmd_prompts)
    ps = p.add_subparsers(dest="prompts_command", required=True, metavar="COMMAND")
    s = ps.add_parser("search", help="the prompts nearest a text (cosine, all-MiniLM-L6-v2)")
    s.add_argument("text")
    s.add_argument("--top", type=int, default=5, metavar="N", help="how many (5)")
    s.add_argument(
        "--bank", type=Path, default=None, metavar="FILE", help="a .json/.csv bank (shipped)"
    )
    s.add_argument("--no-cache", action="store_true", help="embed the bank afresh")
    s.add_argument("--threads", type=int, default=None, metavar="N", help="torch threads")
    s.set_defaults(prompts_func=cmd_search)
    del config_args  # the search reads no daemon config


def cmd_prompts(args: argparse.Namespace) -> int:
    code: int = args.prompts_func(args)
    return code


def _fail(msg: str) -> int:
    print(f"bassd prompts: {msg}", file=sys.stderr)
    return 2


def cmd_search(args: argparse.Namespace) -> int:
    from bassd.control.prompt_loading import load_prompt_bank
    from bassd.control.prompt_schema import PromptBankError

    if args.top < 1:
        return _fail(f"--top must be at least 1 (got {args.top})")
    try:
        bank = load_prompt_bank(args.bank)
    except PromptBankError as exc:
        return _fail(str(exc))
    t0 = time.perf_counter()
    try:
        from bassd.models.prompt_search import SEARCH_THRESHOLD, PromptIndex, match_of
        from bassd.models.text_embed import EmbedderError, TextEmbedder
    except ImportError as exc:
        return _fail(f"needs torch and transformers ({exc})")
    try:
        embedder = TextEmbedder(threads=args.threads)
    except (EmbedderError, OSError) as exc:
        return _fail(str(exc))
    index = PromptIndex.build(bank.prompts, embedder, use_cache=not args.no_cache)
    cold = time.perf_counter() - t0
    t1 = time.perf_counter()
    results = index.search(args.text, top=args.top)
    query_ms = (time.perf_counter() - t1) * 1000.0
    rows = []
    for rank, (pid, score) in enumerate(results, start=1):
        p = bank.by_id(pid)
        rows.append((str(rank), pid, f"{score:.3f}", p.category, p.text))
    headers = ("rank", "id", "score", "category", "text")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:-1])]
    right = (True, False, True, False)

    def line(cells: tuple[str, ...]) -> str:
        head = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=False)
        ]
        return "  ".join([*head, cells[-1]])

    print(line(headers))
    print("  ".join("-" * w for w in [*widths, len("text")]))
    for r in rows:
        print(line(r))
    best, score, ok = match_of(results)
    verdict = "matches" if ok else "below the threshold: the free text would be used"
    print(f"best {best} {score:.3f} ({verdict}; threshold {SEARCH_THRESHOLD:g})")
    cache = "cached embeddings" if index.cached else "bank embedded"
    print(
        f"cold start {cold:.2f} s (model load + {cache}, {len(index)} prompts), "
        f"query {query_ms:.1f} ms; bank {bank.source}"
    )
    return 0
