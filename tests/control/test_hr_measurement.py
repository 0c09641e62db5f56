"""GATT Heart Rate Measurement (0x2A37) and Battery Level (0x2A19) parsing."""

from __future__ import annotations

import struct

import pytest

from bassd.control.hr_measurement import (
    HrMeasurement,
    MalformedMeasurement,
    parse_battery_level,
    parse_heart_rate_measurement,
)

RR_RAW = (1024, 870, 612)  # 1/1024 s units


def _payload(flags: int, hr: int, energy: int, rr_raw: tuple[int, ...]) -> bytes:
    out = bytes([flags])
    out += struct.pack("<H", hr) if flags & 0x01 else struct.pack("<B", hr)
    if flags & 0x08:
        out += struct.pack("<H", energy)
    if flags & 0x10:
        out += struct.pack(f"<{len(rr_raw)}H", *rr_raw)
    return out


@pytest.mark.parametrize("flags", range(32))
def test_every_flag_combination(flags: int) -> None:
    """Each of the 32 defined flag combinations parses HR width, contact, energy and RR."""
    hr = 300 if flags & 0x01 else 72
    m = parse_heart_rate_measurement(_payload(flags, hr, 1234, RR_RAW))
    contact = {0b00: None, 0b01: None, 0b10: False, 0b11: True}[(flags >> 1) & 0b11]
    assert m == HrMeasurement(
        bpm=hr,
        contact=contact,
        energy_kj=1234 if flags & 0x08 else None,
        rr_ms=tuple(r * 1000.0 / 1024.0 for r in RR_RAW) if flags & 0x10 else (),
        reserved=0,
    )


def test_uint16_heart_rate_uses_both_bytes() -> None:
    """A 16-bit HR is little-endian: 0x01 0x01 is 257 bpm, not 1."""
    assert parse_heart_rate_measurement(bytes([0x01, 0x01, 0x01])).bpm == 257


def test_rr_conversion_to_ms() -> None:
    """RR units of 1/1024 s become milliseconds: 1024 -> 1000 ms, 512 -> 500 ms."""
    m = parse_heart_rate_measurement(bytes([0x10, 60, 0x00, 0x04, 0x00, 0x02]))
    assert m.rr_ms == (1000.0, 500.0)


def test_rr_flag_without_rr_bytes_is_empty() -> None:
    """An RR flag with no RR bytes left is a sample without beats, not an error."""
    assert parse_heart_rate_measurement(bytes([0x10, 70])).rr_ms == ()


def test_reserved_bits_are_ignored_but_kept() -> None:
    """Bits 5-7 do not change the parse; their value is recorded on the measurement."""
    m = parse_heart_rate_measurement(bytes([0xE6, 80]))
    assert (m.bpm, m.contact, m.reserved) == (80, True, 0xE0)


def test_polar_like_notification() -> None:
    """A typical strap notification: contact detected, uint8 HR, two RR intervals."""
    m = parse_heart_rate_measurement(bytes.fromhex("16 48 1c 03 2a 03".replace(" ", "")))
    assert m.bpm == 0x48 and m.contact is True and m.energy_kj is None
    assert m.rr_ms == pytest.approx((796 * 1000 / 1024, 810 * 1000 / 1024))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty"),
        (bytes([0x00]), "truncated_hr"),
        (bytes([0x01]), "truncated_hr"),
        (bytes([0x01, 0x48]), "truncated_hr"),
        (bytes([0x08, 0x48]), "truncated_energy"),
        (bytes([0x08, 0x48, 0x01]), "truncated_energy"),
        (bytes([0x09, 0x48, 0x00, 0x01]), "truncated_energy"),
        (bytes([0x10, 0x48, 0x01]), "odd_rr"),
        (bytes([0x10, 0x48, 0x00, 0x04, 0x01]), "odd_rr"),
        (bytes([0x18, 0x48, 0x01, 0x00, 0x01]), "odd_rr"),
        (bytes([0x00, 0x00]), "zero_hr"),
        (bytes([0x01, 0x00, 0x00]), "zero_hr"),
    ],
)
def test_malformed_reasons(payload: bytes, reason: str) -> None:
    """Every short or inconsistent payload is rejected with the rule it broke."""
    with pytest.raises(MalformedMeasurement) as err:
        parse_heart_rate_measurement(payload)
    assert err.value.reason == reason
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("flags", range(32))
def test_every_truncation_is_malformed(flags: int) -> None:
    """Cutting a valid payload short of its fixed fields is always malformed, never a parse."""
    full = _payload(flags, 300 if flags & 1 else 72, 1234, ())
    for n in range(len(full)):
        with pytest.raises(MalformedMeasurement) as err:
            parse_heart_rate_measurement(full[:n])
        assert err.value.reason in ("empty", "truncated_hr", "truncated_energy")


def test_battery_level() -> None:
    """Battery Level is one byte of percent; over 100 or empty is rejected."""
    assert parse_battery_level(bytes([0])) == 0
    assert parse_battery_level(bytearray([87])) == 87
    assert parse_battery_level(bytes([100])) == 100
    with pytest.raises(MalformedMeasurement, match="battery_range"):
        parse_battery_level(bytes([101]))
    with pytest.raises(MalformedMeasurement, match="empty"):
        parse_battery_level(b"")
