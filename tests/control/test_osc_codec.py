"""The strict OSC parser: round trips, every malformed case is an OscError with a reason."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bassd.control.osc_codec import (
    Bundle,
    Double,
    Message,
    OscError,
    encode_bundle,
    encode_message,
    ntp_to_unix,
    parse_packet,
    unix_to_ntp,
)


def test_round_trip_of_every_encodable_type() -> None:
    """Ints, floats, strings, blobs, booleans and nil survive encode → parse."""
    data = encode_message("/a/b", 1, 2.5, "héllo", b"\x00\x01\x02", True, False, None, 2**40)
    msg = parse_packet(data)
    assert isinstance(msg, Message)
    assert msg.address == "/a/b" and msg.typetags == "ifsbTFNh"
    assert msg.args == (1, 2.5, "héllo", b"\x00\x01\x02", True, False, None, 2**40)


def test_a_double_keeps_the_precision_of_a_unix_time() -> None:
    """Double goes out as 'd': a unix time survives to the microsecond (a plain float, 'f',
    keeps only ~2 minutes at that size)."""
    t = 1_764_756_000.123456
    msg = parse_packet(encode_message("/t", Double(t), t))
    assert isinstance(msg, Message) and msg.typetags == "df"
    assert msg.args[0] == t and abs(msg.args[1] - t) > 1e-3


def test_nested_bundles_within_the_depth_bound() -> None:
    """Bundles nest up to max_depth; one level more is refused."""
    inner = encode_bundle(1, encode_message("/x", 1))
    nested = encode_bundle(1, encode_message("/y", 2.0), inner)
    b = parse_packet(nested, max_depth=2)
    assert isinstance(b, Bundle) and isinstance(b.elements[1], Bundle)
    deep = encode_message("/z")
    for _ in range(5):
        deep = encode_bundle(1, deep)
    with pytest.raises(OscError, match="nested deeper than 4"):
        parse_packet(deep, max_depth=4)


def test_timetags_convert_both_ways() -> None:
    """NTP ↔ Unix time conversion is exact to well below a sample."""
    assert abs(ntp_to_unix(unix_to_ntp(1_700_000_000.123456)) - 1_700_000_000.123456) < 1e-6


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"/a\x00\x00,i\x00\x00", "arguments take 0 bytes"),  # truncated argument
        (b"/a\x00\x00,i\x00", "multiple of 4"),  # misaligned
        (b"/\xff\xfe\x00,\x00\x00\x00", "address is not valid UTF-8"),
        (b"/a\x00\x00,s\x00\x00\xc3\x28\x00\x00", "string argument is not valid UTF-8"),
        (b"/a\x00\x00,b\x00\x00" + struct.pack(">i", 1000) + b"abcd", "blob of 1000 bytes"),
        (b"/a\x00\x00,[i]", "type tag string is not NUL-terminated"),
        (b"/a\x00\x00,[i]\x00\x00\x00\x00" + struct.pack(">i", 1), "arrays are not accepted"),
        (b"/a\x00\x00,q\x00\x00", "unknown type tag 'q'"),
        (b"/a\x00\x00xi\x00\x00", "does not start with ','"),
        (b"abcd", "does not start with '/'"),
        (b"#bundle\x00\x00\x00", "multiple of 4"),
        (b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 64) + b"/a\x00\x00", "does not fit"),
        (
            b"/a\x00\x00,i\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00",
            "arguments take 8 bytes, type tags ,i need 4",
        ),
    ],
)
def test_malformed_inputs_name_the_problem(data: bytes, reason: str) -> None:
    """Truncations, bad UTF-8, bad sizes and unknown types are refused with a reason."""
    if len(data) % 4 and "multiple of 4" not in reason:
        data = data + b"\x00" * (-len(data) % 4)
    with pytest.raises(OscError, match=reason.replace("[", r"\[").replace("(", r"\(")):
        parse_packet(data)


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_osc_errors(data: bytes) -> None:
    """No byte string makes the parser raise anything but OscError."""
    try:
        parse_packet(data)
    except OscError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=4, max_size=64), st.integers(0, 60))
def test_truncated_valid_messages_are_refused(payload: bytes, cut: int) -> None:
    """Cutting a valid message anywhere (on a 4-byte boundary) never yields garbage silently."""
    data = encode_message("/hr/bpm", 72.0, "x" * (len(payload) % 9), payload)
    cut = (cut * 4) % len(data)
    if cut == 0:
        return
    try:
        msg = parse_packet(data[:cut])
    except OscError:
        return
    assert isinstance(msg, Message) and msg.address == "/hr/bpm" and msg.args == ()


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4),
    st.sampled_from(["", "s", "i"]),
)
def test_char_arguments_of_any_code_raise_only_osc_errors(codes: list[int], extra: str) -> None:
    """A crafted 'c' argument (any 32-bit value) parses to one character or is an OscError."""
    tags = "c" * len(codes) + extra
    payload = b"".join(struct.pack(">I", c) for c in codes)
    payload += {"": b"", "s": b"ab\x00\x00", "i": struct.pack(">i", 7)}[extra]
    tagstring = ("," + tags).encode()
    data = b"/a\x00\x00" + tagstring + b"\x00" * (4 - len(tagstring) % 4) + payload
    try:
        msg = parse_packet(data)
    except OscError:
        assert any(c > 0x10FFFF or 0xD800 <= c <= 0xDFFF for c in codes)
        return
    assert isinstance(msg, Message)
    assert [ord(a) for a in msg.args[: len(codes)]] == codes


@pytest.mark.parametrize("code", [0x110000, 0xD800, 0xFFFFFFFF])
def test_char_outside_unicode_is_refused_with_a_reason(code: int) -> None:
    """'c' values past U+10FFFF or in the surrogate range are OscErrors that say so."""
    for tags in (",c\x00\x00", ",cT\x00"):  # the fixed-struct path and the general one
        data = b"/a\x00\x00" + tags.encode() + struct.pack(">I", code)
        with pytest.raises(OscError, match="not a Unicode scalar value"):
            parse_packet(data)
