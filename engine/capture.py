"""Segment capture in shared memory: the master output of a segment, block by block.

Blocks are copied into preallocated shared-memory chunks as they are rendered,
so ending a segment costs nothing in the pump: no concatenation, no pickling of
audio. The segment log (a worker process) attaches to the chunks by name,
measures the audio, and unlinks them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from multiprocessing import resource_tracker, shared_memory

import numpy as np

from bassd.engine.shm_names import new_name

CHUNK_FRAMES = 480_000  # 10 s at 48 kHz


def _untrack(shm: shared_memory.SharedMemory) -> None:
    # ownership is explicit here (whoever consumes a capture unlinks it); keep
    # Python's resource tracker from unlinking or warning at process exit
    with contextlib.suppress(Exception):
        resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CapturedAudio:
    """A picklable handle on captured audio: shared-memory chunk names and frame counts."""

    chunks: tuple[tuple[str, int], ...]
    channels: int = 2

    @property
    def frames(self) -> int:
        return sum(n for _, n in self.chunks)

    def load(self) -> np.ndarray:
        """The audio as one (frames, channels) float32 array (a copy)."""
        out = np.empty((self.frames, self.channels), dtype=np.float32)
        pos = 0
        for name, n in self.chunks:
            shm = shared_memory.SharedMemory(name=name, create=False)
            _untrack(shm)
            try:
                view = np.ndarray((n, self.channels), dtype=np.float32, buffer=shm.buf)
                out[pos : pos + n] = view
                del view
            finally:
                shm.close()
            pos += n
        return out

    def unlink(self) -> None:
        """Free the chunks (the consumer does this once)."""
        for name, _ in self.chunks:
            with contextlib.suppress(FileNotFoundError):
                shm = shared_memory.SharedMemory(name=name, create=False)  # (tracked ...)
                shm.close()
                shm.unlink()  # (... and untracked again here)


class CaptureBuffer:
    """Appends (frames, channels) blocks into shared-memory chunks."""

    def __init__(self, channels: int = 2, chunk_frames: int = CHUNK_FRAMES) -> None:
        self.channels = channels
        self.chunk_frames = chunk_frames
        self._chunks: list[tuple[shared_memory.SharedMemory, np.ndarray]] = []
        self._fill = 0  # frames in the last chunk

    def _new_chunk(self) -> None:
        shm = shared_memory.SharedMemory(
            name=new_name("capture"), create=True, size=self.chunk_frames * self.channels * 4
        )
        _untrack(shm)
        view = np.ndarray((self.chunk_frames, self.channels), dtype=np.float32, buffer=shm.buf)
        self._chunks.append((shm, view))
        self._fill = 0

    def append(self, block: np.ndarray) -> None:
        pos = 0
        while pos < len(block):
            if not self._chunks or self._fill == self.chunk_frames:
                self._new_chunk()
            view = self._chunks[-1][1]
            n = min(len(block) - pos, self.chunk_frames - self._fill)
            view[self._fill : self._fill + n] = block[pos : pos + n]
            self._fill += n
            pos += n

    def finish(self) -> CapturedAudio:
        """Hand the chunks over (this buffer is empty again)."""
        out = []
        for i, (shm, view) in enumerate(self._chunks):
            n = self._fill if i == len(self._chunks) - 1 else self.chunk_frames
            out.append((shm.name, n))
            del view
            shm.close()
        self._chunks = []
        self._fill = 0
        return CapturedAudio(tuple(out), self.channels)

    def discard(self) -> None:
        self.finish().unlink()
