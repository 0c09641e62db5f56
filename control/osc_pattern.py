"""OSC 1.0 address patterns (``*``, ``?``, ``[...]``, ``[!...]``, ``{a,b}``) with bounded cost.

python-osc turns patterns into regular expressions; a client-chosen pattern
such as ``/a*a*a*a*a*b`` then makes the backtracking regex engine take time
exponential in the number of stars. Here a pattern is compiled into tokens per
address part and matched by dynamic programming over (token, character)
positions: O(tokens × characters × alternatives) per part, with the pattern's
length capped, so no pattern can make matching slow.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

MAX_PATTERN = 256  # bytes; longer addresses are rejected before matching
MAX_ALTERNATIVES = 32

SPECIAL = frozenset("*?[]{}")


class PatternError(ValueError):
    pass


@dataclass(frozen=True)
class _Tok:
    kind: str  # "lit" | "any" | "star" | "set" | "alt"
    chars: frozenset[str] = frozenset()
    negate: bool = False
    alts: tuple[str, ...] = ()


def is_pattern(address: str) -> bool:
    return any(c in SPECIAL for c in address)


def _compile_part(part: str) -> tuple[_Tok, ...]:
    toks: list[_Tok] = []
    i = 0
    while i < len(part):
        c = part[i]
        if c == "*":
            if not (toks and toks[-1].kind == "star"):  # ** is *
                toks.append(_Tok("star"))
            i += 1
        elif c == "?":
            toks.append(_Tok("any"))
            i += 1
        elif c == "[":
            end = part.find("]", i + 1)
            if end < 0:
                raise PatternError("unclosed '['")
            body = part[i + 1 : end]
            negate = body.startswith("!")
            if negate:
                body = body[1:]
            chars: set[str] = set()
            j = 0
            while j < len(body):
                if j + 2 < len(body) and body[j + 1] == "-":
                    lo, hi = body[j], body[j + 2]
                    if ord(hi) - ord(lo) > 256:
                        raise PatternError("character range too wide")
                    chars.update(chr(k) for k in range(ord(lo), ord(hi) + 1))
                    j += 3
                else:
                    chars.add(body[j])
                    j += 1
            toks.append(_Tok("set", frozenset(chars), negate))
            i = end + 1
        elif c == "{":
            end = part.find("}", i + 1)
            if end < 0:
                raise PatternError("unclosed '{'")
            alts = tuple(part[i + 1 : end].split(","))
            if len(alts) > MAX_ALTERNATIVES:
                raise PatternError(f"more than {MAX_ALTERNATIVES} alternatives")
            toks.append(_Tok("alt", alts=alts))
            i = end + 1
        elif c in "]}":
            raise PatternError(f"unbalanced '{c}'")
        else:
            toks.append(_Tok("lit", frozenset(c)))
            i += 1
    return tuple(toks)


def _match_part(toks: tuple[_Tok, ...], s: str) -> bool:
    n = len(s)
    # reach[j]: the tokens so far can consume exactly s[:j]
    reach = [False] * (n + 1)
    reach[0] = True
    for tok in toks:
        nxt = [False] * (n + 1)
        if tok.kind == "star":
            seen = False
            for j in range(n + 1):
                seen = seen or reach[j]
                nxt[j] = seen
        elif tok.kind == "alt":
            for j in range(n + 1):
                if reach[j]:
                    for a in tok.alts:
                        if s.startswith(a, j):
                            nxt[j + len(a)] = True
        else:
            for j in range(n):
                if reach[j]:
                    c = s[j]
                    if tok.kind == "any":
                        ok = True
                    elif tok.kind == "lit":
                        ok = c in tok.chars
                    else:
                        ok = (c in tok.chars) != tok.negate
                    if ok:
                        nxt[j + 1] = True
        reach = nxt
        if not any(reach):
            return False
    return reach[n]


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> tuple[tuple[_Tok, ...], ...]:
    if len(pattern.encode("utf-8")) > MAX_PATTERN:
        raise PatternError(f"pattern longer than {MAX_PATTERN} bytes")
    if not pattern.startswith("/"):
        raise PatternError("pattern does not start with '/'")
    return tuple(_compile_part(p) for p in pattern[1:].split("/"))


def matches(pattern: str, address: str) -> bool:
    """Does the OSC address pattern match the (literal) address?"""
    parts = compile_pattern(pattern)
    names = address[1:].split("/")
    if len(parts) != len(names):
        return False
    return all(_match_part(t, s) for t, s in zip(parts, names, strict=True))
