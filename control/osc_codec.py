"""OSC 1.0 wire format: a strict parser and an encoder.

Why not python-osc's parser: it decodes strings as UTF-8 but lets the
``UnicodeDecodeError`` escape as something other than its ``ParseError``;
it recurses into nested bundles without a depth bound; and its dispatcher
swallows parse errors. Here every malformed input raises ``OscError`` with a
reason, nested bundles stop at ``max_depth``, and the parser is small enough
to be fast (struct formats are cached per type-tag string).

Supported argument types: i f s S b h d t T F N I c r m. Arrays ([ ]) are
refused: no address of ours takes one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bassd.control.osc_reasons import Reason

BUNDLE_TAG = b"#bundle\x00"
IMMEDIATELY = 1  # NTP timetag meaning "now"
NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01


class OscError(ValueError):
    """A datagram or message that is not valid OSC, or values an address refuses.

    The message is the detail (for the log and the ``/error`` reply); ``reason``
    is one of the fixed codes the server counts rejections by.
    """

    def __init__(self, detail: str, reason: Reason = Reason.MALFORMED) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Message:
    address: str
    typetags: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Bundle:
    timetag: int  # 64-bit NTP: seconds since 1900 << 32 | fraction
    elements: tuple[Message | Bundle, ...] = field(default_factory=tuple)

    @property
    def immediate(self) -> bool:
        return self.timetag == IMMEDIATELY


def ntp_to_unix(timetag: int) -> float:
    return (timetag >> 32) - NTP_EPOCH_OFFSET + (timetag & 0xFFFFFFFF) / 2**32


def unix_to_ntp(t: float) -> int:
    seconds = int(t) + NTP_EPOCH_OFFSET
    frac = int((t - int(t)) * 2**32) & 0xFFFFFFFF
    return (seconds << 32) | frac


def _read_string(data: bytes, pos: int, what: str) -> tuple[str, int]:
    end = data.find(b"\x00", pos)
    if end < 0:
        raise OscError(f"{what} is not NUL-terminated")
    raw = data[pos:end]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OscError(f"{what} is not valid UTF-8") from None
    nxt = (end + 4) & ~3
    if nxt > len(data):
        raise OscError(f"{what} padding runs past the end")
    return text, nxt


_FIXED = {"i": ">i", "f": ">f", "h": ">q", "d": ">d", "t": ">Q", "c": ">I", "r": ">I", "m": ">4s"}
_NO_DATA = {"T": True, "F": False, "N": None, "I": float("inf")}


def _char(code: int) -> str:
    """A ``c`` argument: one Unicode scalar value (no surrogates), else OscError."""
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise OscError(f"char argument {code:#x} is not a Unicode scalar value")
    return chr(code)


@lru_cache(maxsize=512)
def _fixed_struct(tags: str) -> struct.Struct | None:
    """One Struct for a tag string made only of fixed-size types (the common case)."""
    if not tags or any(t not in _FIXED for t in tags):
        return None
    return struct.Struct(">" + "".join(_FIXED[t][1:] for t in tags))


def _parse_args(data: bytes, pos: int, tags: str) -> tuple[Any, ...]:
    fixed = _fixed_struct(tags)
    if fixed is not None:
        if pos + fixed.size != len(data):
            raise OscError(
                f"arguments take {len(data) - pos} bytes, type tags ,{tags} need {fixed.size}"
            )
        values = fixed.unpack_from(data, pos)
        if "c" in tags:
            values = tuple(_char(v) if t == "c" else v for t, v in zip(tags, values, strict=True))
        return tuple(values)
    out: list[Any] = []
    for t in tags:
        if t in _NO_DATA:
            out.append(_NO_DATA[t])
        elif t in ("s", "S"):
            s, pos = _read_string(data, pos, "string argument")
            out.append(s)
        elif t == "b":
            if pos + 4 > len(data):
                raise OscError("blob size runs past the end")
            (n,) = struct.unpack_from(">i", data, pos)
            if n < 0 or pos + 4 + n > len(data):
                raise OscError(f"blob of {n} bytes runs past the end")
            out.append(bytes(data[pos + 4 : pos + 4 + n]))
            pos = (pos + 4 + n + 3) & ~3
        elif t in _FIXED:
            fmt = _FIXED[t]
            size = struct.calcsize(fmt)
            if pos + size > len(data):
                raise OscError(f"argument '{t}' runs past the end")
            (v,) = struct.unpack_from(fmt, data, pos)
            out.append(_char(v) if t == "c" else v)
            pos += size
        elif t in "[]":
            raise OscError("arrays are not accepted")
        else:
            raise OscError(f"unknown type tag '{t}'")
    if pos != len(data):
        raise OscError(f"{len(data) - pos} bytes left over after the arguments")
    return tuple(out)


def parse_message(data: bytes) -> Message:
    if not data.startswith(b"/"):
        raise OscError("address does not start with '/'")
    address, pos = _read_string(data, 0, "address")
    if pos == len(data):  # no type tag string: an old-style message with no arguments
        return Message(address, "", ())
    if data[pos : pos + 1] != b",":
        raise OscError("type tag string does not start with ','")
    tags, pos = _read_string(data, pos, "type tag string")
    tags = tags[1:]
    return Message(address, tags, _parse_args(data, pos, tags))


def parse_packet(data: bytes, max_depth: int = 4) -> Message | Bundle:
    """Parse one datagram: a message, or a bundle nested at most ``max_depth`` deep."""
    if len(data) % 4:
        raise OscError(f"size {len(data)} is not a multiple of 4")
    if data.startswith(BUNDLE_TAG):
        return _parse_bundle(data, 1, max_depth)
    return parse_message(data)


def _parse_bundle(data: bytes, depth: int, max_depth: int) -> Bundle:
    if depth > max_depth:
        raise OscError(f"bundles nested deeper than {max_depth}")
    if len(data) < 16:
        raise OscError("bundle header is truncated")
    (timetag,) = struct.unpack_from(">Q", data, 8)
    pos = 16
    elements: list[Message | Bundle] = []
    while pos < len(data):
        if pos + 4 > len(data):
            raise OscError("bundle element size is truncated")
        (n,) = struct.unpack_from(">i", data, pos)
        if n <= 0 or n % 4 or pos + 4 + n > len(data):
            raise OscError(f"bundle element of {n} bytes does not fit")
        chunk = data[pos + 4 : pos + 4 + n]
        if chunk.startswith(BUNDLE_TAG):
            elements.append(_parse_bundle(chunk, depth + 1, max_depth))
        else:
            elements.append(parse_message(chunk))
        pos += 4 + n
    return Bundle(timetag, tuple(elements))


# ----------------------------------------------------------------------- encode
def _pad(b: bytes) -> bytes:
    return b + b"\x00" * (4 - len(b) % 4)


def _blob(b: bytes) -> bytes:
    return struct.pack(">i", len(b)) + b + b"\x00" * (-len(b) % 4)


class Double(float):
    """A float sent as an OSC double (``d``, 64 bits) rather than ``f`` (32 bits): a unix
    time or a beat count needs the precision."""


def encode_message(address: str, *args: Any) -> bytes:
    """Encode a message, typed from the values: int i, float f, Double d, str s, bytes b,
    bool T/F, None N."""
    tags = [","]
    payload = []
    for a in args:
        if a is True:
            tags.append("T")
        elif a is False:
            tags.append("F")
        elif a is None:
            tags.append("N")
        elif isinstance(a, int):
            if -(2**31) <= a < 2**31:
                tags.append("i")
                payload.append(struct.pack(">i", a))
            else:
                tags.append("h")
                payload.append(struct.pack(">q", a))
        elif isinstance(a, Double):
            tags.append("d")
            payload.append(struct.pack(">d", a))
        elif isinstance(a, float):
            tags.append("f")
            payload.append(struct.pack(">f", a))
        elif isinstance(a, str):
            tags.append("s")
            payload.append(_pad(a.encode("utf-8")))
        elif isinstance(a, bytes | bytearray):
            tags.append("b")
            payload.append(_blob(bytes(a)))
        else:
            raise TypeError(f"cannot encode {type(a).__name__} as an OSC argument")
    return _pad(address.encode("utf-8")) + _pad("".join(tags).encode()) + b"".join(payload)


def encode_bundle(timetag: int, *elements: bytes) -> bytes:
    body = b"".join(struct.pack(">i", len(e)) + e for e in elements)
    return BUNDLE_TAG + struct.pack(">Q", timetag) + body
