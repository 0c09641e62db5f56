"""An in-process OSC server with a real controller and engine (no audio device),
driven over real UDP sockets; for tests of the address space and the wire."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

from bassd.app.config import Config, load_config
from bassd.app.offload import ThreadOffload
from bassd.app.session import build_session
from bassd.control.osc_codec import Message, parse_packet
from bassd.control.osc_server import OscServer, OscSettings, start_osc_server
from bassd.engine.scheduler import FrameScheduler


class Harness:
    def __init__(self, tmp: Path, overrides: list[str] | None = None) -> None:
        self.tmp = tmp
        self.config: Config = load_config(
            overrides=[
                f"outputs.sessions_dir={tmp / 'sessions'}",
                f"control.prompts_dir={tmp / 'prompts'}",
                "timeline.segment_seconds=4",
                "timeline.crossfade_seconds=0.5",
                *(overrides or []),
            ]
        )
        self.faults = 0
        self.server: OscServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.session = build_session(
            self.config,
            session="test",
            fault=self._fault,
            figures=self._figures,
            offload=ThreadOffload(self._spawn),  # the daemon's: slow work in a thread
        )
        self.events = self.session.events
        self.controller = self.session.controller
        self.engine = self.session.engine
        self.scheduler = FrameScheduler()
        self.client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client.bind(("127.0.0.1", 0))
        self.client.setblocking(False)
        self.replies_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.replies_sock.bind(("127.0.0.1", 0))
        self.replies_sock.setblocking(False)
        self.transport: Any = None

    def _figures(self) -> dict[str, Any]:
        return self.server.counters.figures() if self.server is not None else {}

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _fault(self) -> None:
        self.faults += 1

    def _schedule(self, when: float, action: Any) -> bool:
        import time

        frame = self.engine.frame + round((when - time.time()) * self.engine.sample_rate)
        return frame >= self.engine.frame and self.scheduler.at(frame, action)

    async def start(self, **settings: Any) -> None:
        s = OscSettings.from_config(
            self.config.osc,
            debug=True,
            reply_port=self.replies_sock.getsockname()[1],
            **settings,
        )
        self.transport, self.server = await start_osc_server(
            "127.0.0.1", 0, self.controller, s, self._schedule
        )
        self.port = self.transport.get_extra_info("sockname")[1]

    def send(self, data: bytes) -> None:
        self.client.sendto(data, ("127.0.0.1", self.port))

    async def settle(self, seconds: float = 0.05) -> None:
        await asyncio.sleep(seconds)

    def render(self, seconds: float) -> None:
        """Advance the engine like the pump does (running due scheduled actions)."""
        n = round(seconds * self.engine.sample_rate)
        end = self.engine.frame + n
        while self.engine.frame < end:
            for action in self.scheduler.pop_due(self.engine.frame + 256):
                action()
            self.engine.render(256)

    def replies(self) -> list[Message]:
        out = []
        while True:
            try:
                data = self.replies_sock.recv(65536)
            except BlockingIOError:
                return out
            msg = parse_packet(data)
            assert isinstance(msg, Message)
            out.append(msg)

    def close(self) -> None:
        if self.transport is not None:
            with contextlib.suppress(RuntimeError):  # its loop may be closed already
                self.transport.close()
        self.client.close()
        self.replies_sock.close()
        self.session.close()


def run(coro: Any) -> None:
    """Run one test's coroutine on a fresh event loop."""
    asyncio.run(coro)
