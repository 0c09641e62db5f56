"""OSC address patterns: semantics of each wildcard, and bounded cost on hostile patterns."""

from __future__ import annotations

import pytest

from bassd.control.osc_pattern import PatternError, is_pattern, matches


@pytest.mark.parametrize(
    ("pattern", "address", "ok"),
    [
        ("/fx/*", "/fx/hpf", True),
        ("/fx/*", "/fx/hpf/x", False),  # * never crosses a '/'
        ("/*/bpm", "/hr/bpm", True),
        ("/fx/?pf", "/fx/lpf", True),
        ("/fx/?pf", "/fx/lpff", False),
        ("/fx/[hl]pf", "/fx/hpf", True),
        ("/fx/[!h]pf", "/fx/hpf", False),
        ("/fx/[a-k]pf", "/fx/hpf", True),
        ("/fx/[a-k]pf", "/fx/lpf", False),
        ("/{fx,master}/gain", "/master/gain", True),
        ("/{fx,master}/gain", "/hr/gain", False),
        ("/renderer/{key,mode}", "/renderer/mode", True),
        ("/st*us", "/status", True),
        ("/*", "/status", True),
    ],
)
def test_wildcards(pattern: str, address: str, ok: bool) -> None:
    """* ? [..] [!..] [a-z] and {a,b} match as OSC 1.0 defines them."""
    assert matches(pattern, address) is ok


def test_is_pattern() -> None:
    """Plain addresses are not patterns (they take the fast exact lookup)."""
    assert not is_pattern("/hr/bpm") and is_pattern("/hr/*")


@pytest.mark.timeout(20)  # a hang detector: exponential backtracking would take hours
def test_hostile_patterns_stay_polynomial() -> None:
    """Patterns that make backtracking regexes explode are matched by DP in bounded work."""
    address = "/" + "a" * 200
    for pattern in ("/" + "*a" * 60 + "b", "/" + "a*" * 100 + "b", "/" + "?*" * 100 + "!"):
        assert matches(pattern, address) is False


@pytest.mark.parametrize("bad", ["/a[bc", "/a{b,c", "/a]", "no-slash", "/" + "x" * 300])
def test_invalid_patterns_are_errors(bad: str) -> None:
    """Unbalanced brackets, a missing '/' or an overlong pattern are PatternErrors."""
    with pytest.raises(PatternError):
        matches(bad, "/abc")
