"""Per-category prompt selection that avoids recent repeats."""

from __future__ import annotations

import difflib
import random
from collections import deque
from collections.abc import Iterable, Iterator

from bassd.control.prompt_schema import (
    CATEGORIES,
    CORE_CATEGORIES,
    POLICIES,
    Policy,
    Prompt,
    PromptBankError,
)


class PromptBank:
    """The validated prompts, with per-category selection that avoids recent repeats.

    ``no_repeat`` draws at random but never one of the last ``avoid_last`` prompts of the
    category (fewer when the category is small, so a one-prompt category just repeats);
    ``cycle`` goes round the category in bank order; ``random`` draws uniformly.
    Draws use the ``rng`` passed to :meth:`select`, else the bank's own, seeded by ``seed``.
    """

    def __init__(
        self,
        prompts: Iterable[Prompt],
        *,
        policy: Policy = "no_repeat",
        avoid_last: int = 1,
        seed: int | None = 0,
        source: str = "prompt bank",
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r} (allowed: {', '.join(POLICIES)})")
        if avoid_last < 0:
            raise ValueError(f"avoid_last must be >= 0, got {avoid_last}")
        self.prompts: tuple[Prompt, ...] = tuple(prompts)
        self.source = source
        self.policy: Policy = policy
        self.avoid_last = avoid_last
        self._by_id: dict[str, Prompt] = {}
        for p in self.prompts:
            if p.id in self._by_id:
                raise PromptBankError(f"{source}: duplicate id {p.id!r}")
            self._by_id[p.id] = p
        self._pools = {
            c: tuple(p for p in self.prompts if p.category == c)
            for c in CATEGORIES
            if any(p.category == c for p in self.prompts)
        }
        empty = [c for c in CORE_CATEGORIES if c not in self._pools]
        if empty:
            raise PromptBankError(
                f"{source}: no prompts in category {', '.join(map(repr, empty))} "
                f"(each of {', '.join(CORE_CATEGORIES)} needs at least one)"
            )
        self._rng = random.Random(seed)
        self._recent: dict[str, deque[str]] = {}
        self._cursor: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.prompts)

    def __iter__(self) -> Iterator[Prompt]:
        return iter(self.prompts)

    @property
    def categories(self) -> tuple[str, ...]:
        """The categories that hold at least one prompt, in :data:`CATEGORIES` order."""
        return tuple(self._pools)

    def in_category(self, category: str) -> tuple[Prompt, ...]:
        if category not in self._pools:
            raise KeyError(
                f"no prompts in category {category!r} in {self.source} "
                f"(categories: {', '.join(self._pools)})"
            )
        return self._pools[category]

    def has(self, prompt_id: str) -> bool:
        return prompt_id in self._by_id

    def by_id(self, prompt_id: str) -> Prompt:
        try:
            return self._by_id[prompt_id]
        except KeyError:
            close = difflib.get_close_matches(prompt_id, self._by_id, n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            some = ", ".join(list(self._by_id)[:5])
            raise KeyError(
                f"unknown prompt id {prompt_id!r}; {hint}e.g. {some} ({len(self)} in all)"
            ) from None

    def select(self, category: str, rng: random.Random | None = None) -> Prompt:
        """The next prompt of ``category`` under the bank's policy."""
        pool = self.in_category(category)
        r = rng if rng is not None else self._rng
        if self.policy == "cycle":
            i = self._cursor.get(category, 0)
            self._cursor[category] = (i + 1) % len(pool)
            choice = pool[i]
        elif self.policy == "random":
            choice = r.choice(pool)
        else:
            recent = self._recent.setdefault(category, deque(maxlen=max(self.avoid_last, 1)))
            k = min(self.avoid_last, len(pool) - 1)
            avoid = set(list(recent)[-k:]) if k > 0 else set()
            choice = r.choice([p for p in pool if p.id not in avoid])
            recent.append(choice.id)
        return choice

    next = select

    def reset(self) -> None:
        """Forget the selection history (recent prompts and cycle positions)."""
        self._recent.clear()
        self._cursor.clear()
