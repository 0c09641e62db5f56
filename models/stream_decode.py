"""Incremental EnCodec decoding: audio out as the codes come in, at a flat cost per chunk.

MusicGen's 32 kHz EnCodec is non-causal (centred convolutions, an LSTM): the
audio of frame j depends on codes on both sides of it. Each chunk of frames
[a, b) is therefore decoded from a window [a - left, b + right) of codes — left
context to settle the LSTM and the convolutions, right context for the
convolutions that look ahead — and only [a, b) is kept. The start of each
chunk is crossfaded (linearly: both windows decode the same codes, so the two
signals are nearly identical) with the previous window's decoding of those
same samples, which it had as right context. The window never grows, so the
cost per chunk does not depend on the position in the stream (transformers'
own streamer re-decodes everything so far at every step).

Pure: the decode function is passed in; no model, no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

DecodeFn = Callable[[np.ndarray], np.ndarray]  # codes (K, n) -> audio (n * hop, C)


def chunk_schedule(first: int, largest: int) -> Iterator[int]:
    """Chunk lengths in frames: ``first``, then doubling up to ``largest``."""
    n = max(1, first)
    while True:
        yield n
        n = min(largest, n * 2)


class StreamingDecoder:
    """Decodes a growing code sequence chunk by chunk.

    ``push(codes)`` takes every complete frame so far (K, n) and returns the
    audio chunks that can now be decoded; ``finish(codes)`` the rest.
    """

    def __init__(
        self,
        decode: DecodeFn,
        hop: int,
        *,
        left: int = 25,
        right: int = 2,
        first_chunk: int = 2,
        max_chunk: int = 50,
        fade: int | None = None,
    ) -> None:
        self._decode = decode
        self.hop = hop
        self.left = left
        self.right = right
        self._sizes = chunk_schedule(first_chunk, max_chunk)
        self._next = next(self._sizes)
        self.fade = min(right * hop, hop // 2 if fade is None else fade)
        self.emitted = 0  # frames handed out
        self._tail: np.ndarray | None = None  # previous window's audio past its chunk
        self.window_frames: list[int] = []  # frames decoded per chunk (the cost)
        self.chunk_seconds: list[float] = []  # wall time of each chunk's decode
        self.ends: list[int] = []  # the frame each chunk ends at

    def push(self, codes: np.ndarray) -> list[np.ndarray]:
        out = []
        while codes.shape[1] >= self.emitted + self._next + self.right:
            out.append(self._chunk(codes, self.emitted + self._next, final=False))
            self._next = next(self._sizes)
        return out

    def finish(self, codes: np.ndarray) -> list[np.ndarray]:
        out = self.push(codes)
        if codes.shape[1] > self.emitted:
            out.append(self._chunk(codes, codes.shape[1], final=True))
        return out

    def _chunk(self, codes: np.ndarray, end: int, *, final: bool) -> np.ndarray:
        a = self.emitted
        lo = max(0, a - self.left)
        hi = codes.shape[1] if final else min(codes.shape[1], end + self.right)
        t0 = time.perf_counter()
        audio = self._decode(codes[:, lo:hi])  # ((hi - lo) * hop, C)
        self.chunk_seconds.append(time.perf_counter() - t0)
        self.window_frames.append(hi - lo)
        start = (a - lo) * self.hop
        stop = (end - lo) * self.hop
        chunk = np.array(audio[start:stop], dtype=np.float32)
        tail = self._tail
        if tail is not None and self.fade > 0:
            n = min(self.fade, len(tail), len(chunk))
            ramp = (np.arange(n, dtype=np.float32) + 0.5) / n
            chunk[:n] = tail[:n] * (1 - ramp[:, None]) + chunk[:n] * ramp[:, None]
        self._tail = np.array(audio[stop:], dtype=np.float32)
        self.emitted = end
        self.ends.append(end)
        return chunk
