"""Is the audio path healthy? The rule behind systemd's watchdog ping (``WATCHDOG=1``).

The daemon pings systemd only while sound is really going out, so a stalled audio
path (a callback that no longer runs, a pump that no longer fills the ring) stops the
pings and systemd restarts the service after ``WatchdogSec``. Between two samples
(one ping interval apart) the path is healthy when all of these hold:

* the device supervisor says ``playing`` (not reopening, stopping or stopped);
* the audio callback ran (the shared player's ``callbacks`` counter advanced);
* the pump task is alive and wrote to the ring (``write_pos`` advanced);
* the ring was not starved: fewer than half of the interval's callbacks found it
  dry. A single dry callback (a glitch, counted in ``/status``) does not withhold a
  ping; a pump that no longer keeps up does.

A loop that is blocked sends nothing at all, which systemd treats the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AudioSample:
    """The audio path's counters at one moment."""

    stream: str  # the device supervisor's state
    callbacks: int  # audio callbacks since start (the shared player's counter)
    dry_callbacks: int  # callbacks that found the ring empty
    write_pos: int  # frames the pump has written to the ring
    pump_alive: bool  # the pump task is running


def unhealthy_reason(before: AudioSample | None, now: AudioSample) -> str | None:
    """Why the audio path is not healthy between ``before`` and ``now``; None if it is.

    With no earlier sample (the first check) only the present state is judged."""
    if now.stream != "playing":
        return f"stream {now.stream}"
    if not now.pump_alive:
        return "pump task not running"
    if before is None:
        return None if now.callbacks > 0 else "no callback yet"
    ran = now.callbacks - before.callbacks
    if ran <= 0:
        return "no callback since the last check"
    if now.write_pos <= before.write_pos:
        return "the pump wrote nothing since the last check"
    dry = now.dry_callbacks - before.dry_callbacks
    if 2 * dry >= ran:
        return f"ring starved ({dry} of {ran} callbacks dry)"
    return None
