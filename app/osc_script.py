"""Timed OSC for offline renders: bundles with timetags, on the simulated clock.

An offline render has no socket and no wall clock, but a performance is OSC: an
:class:`OscScript` hands datagrams to the same :class:`OscServer` (validation,
patterns, bundles, counters) that the daemon runs, with the server's clock set to
the session's simulated one (``epoch`` + the engine's seconds). A bundle whose
timetag lies ahead is scheduled on the engine's sample clock, as live, and runs
at the first block boundary at or after its time. Datagrams are delivered before
the block in which they are "sent"; replies go nowhere.

A script file (``bassd render --osc FILE``) has one message per line,
``SECONDS ADDRESS ARGS...`` (``#`` starts a comment): each becomes a bundle
timetagged at SECONDS, sent ``lead`` seconds earlier, like a sequencer's.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bassd.app.session import Session
from bassd.control.addresses import TABLE
from bassd.control.osc_codec import encode_bundle, encode_message, unix_to_ntp
from bassd.control.osc_server import OscServer, OscSettings
from bassd.engine.scheduler import FrameScheduler

EPOCH = 1_800_000_000.0  # the simulated clock's unix time at the session's frame 0
PEER = ("127.0.0.1", 9)  # what the server sees as the sender


class OscScriptError(ValueError):
    """A script line that is not a valid message (the message names the line)."""


@dataclass
class OscScript:
    """Datagrams to deliver at simulated times: ``(send_s, bytes)``."""

    datagrams: list[tuple[float, bytes]] = field(default_factory=list)
    epoch: float = EPOCH
    server: OscServer | None = None

    def at(self, send_s: float, data: bytes) -> None:
        self.datagrams.append((float(send_s), data))

    def bundle(self, when_s: float, *messages: bytes, lead: float = 0.1) -> None:
        """A bundle timetagged at ``when_s`` (session seconds), sent ``lead`` s before."""
        tag = unix_to_ntp(self.epoch + when_s)
        self.at(max(0.0, when_s - lead), encode_bundle(tag, *messages))

    def feed(self) -> Callable[[Session, int, int], None]:
        """The ``feed`` of :func:`render_offline`: deliver, then run what is due."""
        order = sorted(range(len(self.datagrams)), key=lambda i: self.datagrams[i][0])
        queue = [self.datagrams[i] for i in order]
        scheduler = FrameScheduler()
        state: dict[str, Any] = {"next": 0}

        def step(session: Session, frame0: int, n: int) -> None:
            engine = session.engine
            sr = engine.sample_rate
            if self.server is None:

                def schedule(when: float, action: Callable[[], None]) -> bool:
                    frame = round((when - self.epoch) * sr)
                    return frame >= engine.frame and scheduler.at(frame, action)

                self.server = OscServer(session.controller, OscSettings(), schedule,
                                        clock=lambda: self.epoch + engine.seconds)  # fmt: skip
            end = (frame0 + n) / sr
            while state["next"] < len(queue) and queue[state["next"]][0] < end:
                self.server.datagram_received(queue[state["next"]][1], PEER)
                state["next"] += 1
            for action in scheduler.pop_due(frame0 + n):
                action()

        return step


def _value(arg_type: str, token: str) -> Any:
    if arg_type == "f":
        return float(token)
    if arg_type == "i":
        return int(token)
    return token


def load_script(path: Path, *, lead: float = 0.1) -> OscScript:
    """A script file (see the module); OscScriptError naming the line that is wrong."""
    by_path = {a.path: a for a in TABLE}
    script = OscScript()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OscScriptError(f"{path}: not readable: {exc}") from None
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            t, address, *tokens = shlex.split(line)
            when = float(t)
        except ValueError:
            raise OscScriptError(f"{path}:{n}: expected SECONDS ADDRESS ARGS...") from None
        entry = by_path.get(address)
        if entry is None:
            raise OscScriptError(f"{path}:{n}: unknown address {address!r}")
        if when < 0:
            raise OscScriptError(f"{path}:{n}: negative time {when:g}")
        types = [a.type for a in entry.args]
        types += [types[-1]] * (len(tokens) - len(types)) if types else []
        try:
            args = [_value(k, tok) for k, tok in zip(types, tokens, strict=False)]
        except ValueError as exc:
            raise OscScriptError(f"{path}:{n}: {address}: {exc}") from None
        script.bundle(when, encode_message(address, *args), lead=lead)
    return script
