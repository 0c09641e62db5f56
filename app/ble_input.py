"""The BLE bridge as an input source of the session: live in the daemon, offline from a trace.

One handler takes a parsed Heart Rate Measurement to the controller, for both: without skin
contact (a sensor that reports it) only the contact is recorded and no sample is used for
the state; otherwise the heart rate and its RR intervals go in as ``/hr/bpm`` and
``/hr/rr`` would. ``bassd render --ble-trace`` feeds a recorded ``t,hex`` trace through the
same parser (``HeartRateBridge.feed``) and this same handler, on the simulated clock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bassd.app.session import Session
from bassd.control.ble_bridge import BleConfig, HeartRateBridge
from bassd.control.ble_trace import read_ble_trace
from bassd.control.controller import Controller
from bassd.control.hr_measurement import HrMeasurement


def sample_handler(
    controller: Controller, when: Callable[[float], float | None]
) -> Callable[[float, HrMeasurement], None]:
    """``on_sample`` for a HeartRateBridge: ``when(t)`` is the session time of the
    notification (None: now)."""

    def on_sample(t: float, m: HrMeasurement) -> None:
        at = when(t)
        if m.contact is not None:
            controller.contact(at, m.contact)
        if m.contact is False:
            return
        controller.hr_sample(at, float(m.bpm), m.rr_ms)

    return on_sample


class TraceFeeder:
    """``render_offline``'s ``feed``: each recorded notification at its own time."""

    def __init__(self, path: str | Path) -> None:
        self.rows = read_ble_trace(path)  # ValueError naming file:line
        self._i = 0
        self.bridge: HeartRateBridge | None = None

    @property
    def seconds(self) -> float:
        return self.rows[-1][0] if self.rows else 0.0

    def __call__(self, session: Session, frame0: int, frames: int) -> None:
        c = session.controller
        if self.bridge is None:
            engine = session.engine
            self.bridge = HeartRateBridge(
                BleConfig(), sample_handler(c, lambda t: max(t, engine.seconds))
            )
        end = (frame0 + frames) / session.engine.sample_rate
        while self._i < len(self.rows) and self.rows[self._i][0] < end:
            t, payload = self.rows[self._i]
            self.bridge.feed(t, payload)
            self._i += 1
