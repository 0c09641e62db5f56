"""``bassd ble``: a Bluetooth LE heart-rate strap as the daemon's heart-rate source.

* ``bassd ble scan [--seconds S]``: the heart-rate sensors (service 0x180D) in range.
* ``bassd ble bridge [--device D] [--to HOST:PORT]``: forward each sample over OSC.
* ``bassd ble record FILE [--device D]``: write the raw notifications as a ``t,hex`` trace.
* ``bassd ble replay FILE [--to HOST:PORT] [--speed X]``: send a trace over OSC at its
  times, through the same parser as live notifications.

Each sample is sent as ``/hr/bpm f`` (bpm), ``/hr/rr f...`` (RR intervals in ms, at most
16 a message; none when the notification has none) and ``/hr/contact i`` (1 detected,
0 not; only from sensors that report contact). With contact reported as not detected
only ``/hr/contact 0`` is sent: the strap's HR then measures no heart.

bleak is imported only by the commands that talk to an adapter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bassd.control.hr_measurement import HrMeasurement

DEFAULT_TO = "127.0.0.1:8000"
RR_PER_MESSAGE = 16  # /hr/rr takes 1..16 values


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    try:
        n = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port {port!r} is not a number") from None
    if not 1 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"port {n} is not 1..65535")
    return host, n


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``ble`` (scan, bridge, record, replay) on the top-level subparsers.

    ``config_args`` is not used yet: the commands take their settings from flags until
    the config has a ``ble`` section."""
    ble = sub.add_parser("ble", help="Bluetooth LE heart-rate straps: scan, bridge, record, replay")
    bsub = ble.add_subparsers(dest="ble_command", required=True)
    s = bsub.add_parser("scan", help="list heart-rate sensors in range (name, address, RSSI)")
    s.add_argument("--seconds", type=float, default=10.0, help="scan time (default 10)")
    for name, help_ in (
        ("bridge", "forward a strap's samples to a daemon over OSC"),
        ("record", "write a strap's raw notifications to a t,hex trace"),
    ):
        p = bsub.add_parser(name, help=help_)
        if name == "record":
            p.add_argument("file", type=Path, metavar="FILE", help="the trace to write (CSV)")
        p.add_argument("--device", default="first",
                       help='address, name substring, or "first" (default)')  # fmt: skip
        p.add_argument("--scan-seconds", type=float, default=10.0)
        if name == "bridge":
            p.add_argument("--to", type=_host_port, default=DEFAULT_TO, metavar="HOST:PORT",
                           help=f"the daemon's OSC port (default {DEFAULT_TO})")  # fmt: skip
    r = bsub.add_parser("replay", help="send a recorded t,hex trace over OSC at its times")
    r.add_argument("file", type=Path, metavar="FILE", help="a t,hex trace")
    r.add_argument("--to", type=_host_port, default=DEFAULT_TO, metavar="HOST:PORT",
                   help=f"the daemon's OSC port (default {DEFAULT_TO})")  # fmt: skip
    r.add_argument("--speed", type=float, default=1.0, help="time scale (2 = twice as fast)")
    ble.set_defaults(func=cmd_ble)


class OscSender:
    """Sends samples as OSC to one UDP address (non-blocking: fine on the event loop)."""

    def __init__(self, host: str, port: int) -> None:
        from bassd.control.osc_codec import encode_message

        self._encode = encode_message
        self.addr = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sent = 0
        self.dropped = 0

    def _send(self, address: str, *args: Any) -> None:
        try:
            self.sock.sendto(self._encode(address, *args), self.addr)
            self.sent += 1
        except OSError:  # full buffer, nobody listening (ICMP refused): a sample is lost
            self.dropped += 1

    def __call__(self, t: float, m: HrMeasurement) -> None:
        if m.contact is not None:
            self._send("/hr/contact", int(m.contact))
        if m.contact is False:
            return
        self._send("/hr/bpm", float(m.bpm))
        rr = m.rr_ms
        for i in range(0, len(rr), RR_PER_MESSAGE):
            self._send("/hr/rr", *(float(v) for v in rr[i : i + RR_PER_MESSAGE]))

    def close(self) -> None:
        self.sock.close()


def cmd_ble(args: argparse.Namespace) -> int:
    handler = {"scan": cmd_scan, "bridge": cmd_bridge, "record": cmd_record,
               "replay": cmd_replay}[args.ble_command]  # fmt: skip
    return handler(args)


def _unavailable_line(exc: BaseException) -> str:
    from bassd.control.ble_bridge import classify

    text = " ".join(str(a) for a in exc.args) or type(exc).__name__
    if isinstance(exc, FileNotFoundError):  # bleak's BlueZ backend found no system D-Bus
        return f"bassd: no Bluetooth: BlueZ is not reachable on the system D-Bus ({text})"
    if classify(exc) == "unavailable":
        return f"bassd: no Bluetooth adapter available ({text})"
    return f"bassd: Bluetooth error: {type(exc).__name__}: {text}"


def cmd_scan(args: argparse.Namespace) -> int:
    """Print one line per sensor; exit 1 with one line when Bluetooth is unavailable."""
    from bassd.control.ble_bridge import BleakHrScanner

    if not args.seconds > 0:
        print("bassd: --seconds must be positive", file=sys.stderr)
        return 2
    try:
        found = asyncio.run(BleakHrScanner().scan(args.seconds))
    except Exception as exc:  # bleak and D-Bus raise several kinds; one line for each
        print(_unavailable_line(exc), file=sys.stderr)
        return 1
    if not found:
        print(f"no heart-rate sensors found in {args.seconds:g} s")
    for f in found:
        rssi = "?" if f.rssi is None else f"{f.rssi} dBm"
        print(f"{f.name or '(no name)'}\t{f.address}\t{rssi}")
    return 0


def _run_bridge(args: argparse.Namespace, on_sample: Callable[[float, HrMeasurement], None],
                on_raw: Callable[[float, bytes], None] | None = None) -> int:  # fmt: skip
    from bassd.app.logging_setup import configure_logging
    from bassd.control.ble_bridge import BleConfig, HeartRateBridge

    configure_logging("info", "auto")
    try:
        config = BleConfig(enabled=True, device=args.device, scan_seconds=args.scan_seconds)
    except ValueError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    bridge = HeartRateBridge(config, on_sample, on_raw=on_raw)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(bridge.run())
    f = bridge.figures()
    print(f"{f['ble_samples']} samples, {f['ble_malformed']} malformed, "
          f"{f['ble_reconnects']} reconnects from {f['ble_device'] or 'no device'}")  # fmt: skip
    return 0


def cmd_bridge(args: argparse.Namespace) -> int:
    """Forward samples to ``--to`` until interrupted (Ctrl-C)."""
    sender = OscSender(*args.to)
    try:
        return _run_bridge(args, sender)
    finally:
        sender.close()


def cmd_record(args: argparse.Namespace) -> int:
    """Write every raw notification to FILE, ``t`` since the recording started."""
    from bassd.control.ble_trace import BleTraceWriter

    try:
        writer = BleTraceWriter(args.file)
    except OSError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    try:
        return _run_bridge(args, lambda t, m: None, on_raw=lambda t, p: writer.write(t - t0, p))
    finally:
        writer.close()
        print(f"{writer.rows} notifications written to {args.file}")


def cmd_replay(args: argparse.Namespace) -> int:
    """Send FILE's samples at their times; 2 with one line on a bad trace."""
    from bassd.control.ble_bridge import replay
    from bassd.control.ble_trace import read_ble_trace

    if not args.speed > 0:
        print("bassd: --speed must be positive", file=sys.stderr)
        return 2
    try:
        trace = read_ble_trace(args.file)
    except (OSError, ValueError) as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    sender = OscSender(*args.to)
    try:
        bridge = asyncio.run(replay(trace, sender, args.speed))
    except KeyboardInterrupt:
        return 130
    finally:
        sender.close()
    f = bridge.figures()
    host, port = args.to
    print(f"replayed {f['ble_samples']} samples ({f['ble_malformed']} malformed) "
          f"as {sender.sent} OSC messages to {host}:{port}")  # fmt: skip
    return 0
