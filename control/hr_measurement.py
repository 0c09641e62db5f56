"""GATT Heart Rate Measurement (0x2A37) and Battery Level (0x2A19) payloads: pure parsing.

Heart Rate Measurement, after the Bluetooth SIG's Heart Rate Service spec (HRS 1.0):

* byte 0, flags: bit 0 = HR is uint16 LE (else uint8); bits 1-2 = sensor contact
  (0b00 / 0b01 not supported, 0b10 supported and not detected, 0b11 detected);
  bit 3 = Energy Expended (uint16 LE, kJ) present; bit 4 = RR intervals present;
  bits 5-7 reserved (ignored, kept in ``HrMeasurement.reserved``).
* then HR, then Energy Expended if flagged, then, if flagged, all the remaining bytes
  as RR intervals, uint16 LE in units of 1/1024 s (converted here to milliseconds).

An RR flag with no RR bytes is accepted (``rr_ms == ()``): some sensors set the flag
in a notification that carries no beat. A heart rate of 0 is rejected: sensors send
it while they have no reading, and it is no heart rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Reason = Literal["empty", "truncated_hr", "truncated_energy", "odd_rr", "zero_hr", "battery_range"]

_HR16 = 0x01
_CONTACT_SUPPORTED = 0x04
_CONTACT_DETECTED = 0x02
_ENERGY = 0x08
_RR = 0x10
_RESERVED = 0xE0


class MalformedMeasurement(ValueError):
    """A payload that is no valid measurement; ``reason`` says which rule it broke."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason


@dataclass(frozen=True, slots=True)
class HrMeasurement:
    bpm: int
    contact: bool | None  # None: the sensor does not report skin contact
    energy_kj: int | None  # None: not in this notification
    rr_ms: tuple[float, ...]  # RR intervals in milliseconds, oldest first
    reserved: int = 0  # flags bits 5-7 as sent (0 from a conforming sensor)


def parse_heart_rate_measurement(data: bytes | bytearray | memoryview) -> HrMeasurement:
    """Parse one 0x2A37 notification; raises :class:`MalformedMeasurement` with a reason."""
    b = bytes(data)
    n = len(b)
    if n == 0:
        raise MalformedMeasurement("empty", "no bytes")
    flags = b[0]
    pos = 1
    if flags & _HR16:
        if n < pos + 2:
            raise MalformedMeasurement("truncated_hr", f"uint16 heart rate needs 3 bytes, got {n}")
        bpm = b[pos] | (b[pos + 1] << 8)
        pos += 2
    else:
        if n < pos + 1:
            raise MalformedMeasurement("truncated_hr", f"uint8 heart rate needs 2 bytes, got {n}")
        bpm = b[pos]
        pos += 1
    energy: int | None = None
    if flags & _ENERGY:
        if n < pos + 2:
            raise MalformedMeasurement(
                "truncated_energy", f"energy expended needs bytes {pos}..{pos + 1}, got {n} bytes"
            )
        energy = b[pos] | (b[pos + 1] << 8)
        pos += 2
    rr: tuple[float, ...] = ()
    if flags & _RR:
        rest = n - pos
        if rest % 2:
            raise MalformedMeasurement(
                "odd_rr", f"RR intervals are uint16 pairs, {rest} trailing bytes at {pos}"
            )
        rr = tuple((b[i] | (b[i + 1] << 8)) * (1000.0 / 1024.0) for i in range(pos, n, 2))
    if bpm == 0:
        raise MalformedMeasurement("zero_hr", "heart rate 0 (the sensor has no reading)")
    contact: bool | None = None
    if flags & _CONTACT_SUPPORTED:
        contact = bool(flags & _CONTACT_DETECTED)
    return HrMeasurement(bpm, contact, energy, rr, flags & _RESERVED)


def parse_battery_level(data: bytes | bytearray | memoryview) -> int:
    """Parse a 0x2A19 Battery Level read: one byte, percent 0..100."""
    b = bytes(data)
    if not b:
        raise MalformedMeasurement("empty", "no bytes in the battery level")
    if b[0] > 100:
        raise MalformedMeasurement("battery_range", f"battery level {b[0]} is over 100 %")
    return b[0]
