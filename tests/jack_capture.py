"""A JACK client of the tests that records bassd's output on the test server."""

from __future__ import annotations

import threading
import uuid

import numpy as np


class Capture:
    """A JACK client of the test recording bassd's output (PortAudio's first port)."""

    def __init__(self, server: str) -> None:
        import jack

        self.client = jack.Client(f"cap-{uuid.uuid4().hex[:6]}", servername=server,
                                  no_start_server=True)  # fmt: skip
        self.port = self.client.inports.register("in")
        self.blocks: list[np.ndarray] = []
        self.lock = threading.Lock()

        @self.client.set_process_callback
        def process(frames: int) -> None:
            block = np.array(self.port.get_array(), dtype=np.float32)
            with self.lock:
                self.blocks.append(block)

        self.client.activate()
        src = next(p for p in self.client.get_ports(is_output=True, is_audio=True)
                   if p.name.startswith("PortAudio"))  # fmt: skip
        self.client.connect(src, self.port)

    def take(self) -> np.ndarray:
        with self.lock:
            blocks, self.blocks = self.blocks, []
        return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
