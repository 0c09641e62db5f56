"""The live daemon driven by an independent OSC client (liblo's oscsend/oscdump) while it
plays on the JACK dummy device; and a fuzz of malformed datagrams that must not hurt it."""

from __future__ import annotations

import csv
import socket
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bassd.control.osc_codec import encode_bundle, encode_message
from tests.health import assert_engine_healthy
from tests.osc_client import OscDump, oscsend, query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


def test_heart_rate_states_fx_and_status_over_liblo(jack_server, start_daemon) -> None:
    """oscsend drives HR, a forced state and FX; oscdump reads /status; events.csv records it."""
    mark = jack_server.mark()
    d = start_daemon(
        jack_server, "--set", "timeline.segment_seconds=6", "--set", "timeline.crossfade_seconds=1"
    )
    oscsend(d.osc_port, "/baseline/set", "f", 70.0)
    for bpm in (71, 250, 71, 71):  # 250 is an artifact: rejected and recorded
        oscsend(d.osc_port, "/hr/bpm", "f", bpm)
        time.sleep(0.05)  # distinct times on the engine clock (a sensor sends ~1/s)
    oscsend(d.osc_port, "/fx/lpf", "f", 6000.0)
    oscsend(d.osc_port, "/master/gain", "i", -3)  # an int where a float is expected (Max)
    oscsend(d.osc_port, "/state/force", "s", "stress")
    time.sleep(0.5)
    st = query_status(d.osc_port, d.reply_port)
    assert st["state"] == "stress" and st["baseline_bpm"] == 70.0 and st["bpm"] == 71.0
    assert st["fx"]["lpf_hz"] == 6000.0 and st["master_gain_db"] == -3.0
    assert abs(st["output_fader"] - 10 ** (-3 / 20)) < 1e-5  # applied by the audio callback
    assert st["fader_latency_ms"] is not None and st["fader_latency_ms"] > 0
    assert st["category"] == "calm"
    assert_engine_healthy(st, jack_server, mark)
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/status")
        assert dump.wait_for("/status/state") == '"stress"'
    oscsend(d.osc_port, "/state/auto")
    time.sleep(0.3)
    assert query_status(d.osc_port, d.reply_port)["state"] == "neutral"
    session = st["session"]
    rows = list(
        csv.DictReader((d.workdir / "outputs" / "sessions" / session / "events.csv").open())
    )
    kinds = [r["kind"] for r in rows]
    assert kinds.count("hr") == 3 and kinds.count("hr_rejected") == 1
    assert [r["value"] for r in rows if r["kind"] == "state"] == ["stress", "neutral"]
    assert any(r["kind"] == "segment" for r in rows)
    assert any(r["kind"] == "osc" and r["value"] == "/fx/lpf" for r in rows)


def test_subscription_pushes_reach_oscdump(jack_server, start_daemon) -> None:
    """After /subscribe PORT, oscdump on that port receives /status/<field> pushes."""
    from tests.osc_client import free_udp_port

    d = start_daemon(jack_server)
    port = free_udp_port()
    with OscDump(port) as dump:
        oscsend(d.osc_port, "/subscribe", "i", port)
        assert dump.wait_for("/status/renderer", timeout=3) == '"kuramoto"'
        assert dump.wait_for("/status/dry_callbacks", timeout=3) == "0"
    oscsend(d.osc_port, "/unsubscribe", "i", port)


def test_errors_are_answered_to_the_sender(jack_server, start_daemon) -> None:
    """An out-of-range value gets /error (address, reason) on the reply port."""
    d = start_daemon(jack_server)
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/fx/hpf", "f", 99999.0)
        text = dump.wait_for("/error")
    assert text.startswith('"/fx/hpf" "hz: 99999 out of range 10..2000 Hz"')


def test_future_bundle_over_the_wire(jack_server, start_daemon) -> None:
    """A bundle timetagged 1 s ahead is applied about a second later, not at once."""
    from bassd.control.osc_codec import unix_to_ntp

    d = start_daemon(jack_server)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        bundle = encode_bundle(unix_to_ntp(time.time() + 1.0), encode_message("/fx/drive", 3.0))
        s.sendto(bundle, ("127.0.0.1", d.osc_port))
    time.sleep(0.3)
    assert query_status(d.osc_port, d.reply_port)["fx"]["drive"] == 1.6
    time.sleep(1.2)
    assert query_status(d.osc_port, d.reply_port)["fx"]["drive"] == 3.0


def _send_from(host: str, port: int, n: int, rate: float) -> None:
    """n /fx/drive messages from ``host`` (a loopback address of its own), paced."""
    msgs = [encode_message("/fx/drive", 1.0 + (i % 50) / 100) for i in range(50)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        start = time.perf_counter()
        for i in range(n):
            s.sendto(msgs[i % 50], ("127.0.0.1", port))
            if i % 100 == 99:  # paced in bursts of 100
                ahead = start + (i + 1) / rate - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)


def test_many_senders_flood_at_once(jack_server, start_daemon) -> None:
    """Six clients, each from its own address, send 10,000 messages/s together for 2 s while
    a seventh asks /status: every datagram is received and handled (none lost), /status
    is answered each time, and the engine never ran dry."""
    import multiprocessing as mp

    mark = jack_server.mark()
    d = start_daemon(jack_server)
    base = query_status(d.osc_port, d.reply_port)
    n = 20_000
    senders = [mp.Process(target=_send_from, args=(f"127.0.0.{k}", d.osc_port, n, 10_000.0))
               for k in range(2, 8)]  # fmt: skip
    for p in senders:
        p.start()
    answered = 0
    while any(p.is_alive() for p in senders):
        query_status(d.osc_port, d.reply_port)  # raises if it goes unanswered
        answered += 1
        time.sleep(0.2)
    for p in senders:
        p.join()
        assert p.exitcode == 0
    time.sleep(0.5)
    st = query_status(d.osc_port, d.reply_port)
    received = st["osc_received"] - base["osc_received"] - answered - 1  # minus the queries
    assert received == len(senders) * n
    assert st["osc_handled"] - base["osc_handled"] - answered - 1 == len(senders) * n
    assert st["osc_dropped"] == base["osc_dropped"] and answered >= 5
    assert round(st["fx"]["drive"], 4) in {round(1.0 + i / 100, 4) for i in range(50)}
    assert_engine_healthy(st, jack_server, mark)


# ------------------------------------------------------------------------ fuzz
def _deep_bundle(depth: int) -> bytes:
    data = encode_message("/segment/skip")
    for _ in range(depth):
        data = encode_bundle(1, data)
    return data


_invalid = st.one_of(
    # random bytes that are neither a message nor a bundle
    st.binary(min_size=1, max_size=300).filter(lambda b: b[:1] not in (b"/", b"#")),
    # a valid message cut short (4-byte aligned, never at its end)
    st.builds(
        lambda v, cut: (lambda m: m[: max(4, (cut % (len(m) // 4)) * 4)])(
            encode_message("/hr/bpm", v, "pad")
        ),
        st.floats(30, 200),
        st.integers(1, 100),
    ),
    # type tags that lie about the arguments
    st.builds(
        lambda n: b"/hr/bpm\x00,ffff\x00\x00\x00" + struct.pack(">f", 1.0) * n, st.integers(0, 3)
    ),
    # wrong argument types for real addresses
    st.sampled_from(
        [
            encode_message("/hr/bpm", "seventy"),
            encode_message("/state/force", 1.0),
            encode_message("/fx/lpf", b"\x00" * 16),
            encode_message("/renderer/key", "H"),
            encode_message("/master/gain", 1e9),
        ]
    ),
    # huge blobs (over osc.max_datagram)
    st.integers(9000, 60000).map(lambda n: encode_message("/prompt/text", b"\x00" * n)),
    # bundles nested too deep
    st.integers(5, 40).map(_deep_bundle),
    # addresses that are not UTF-8
    st.binary(min_size=1, max_size=20).map(
        lambda b: (
            b"/\xff"
            + b.replace(b"\x00", b"a")
            + b"\x00" * (4 - (len(b) + 2) % 4)
            + b",\x00\x00\x00"
        )
    ),
)


@pytest.fixture(scope="module")
def fuzz_daemon(tmp_path_factory):
    """A daemon on a JACK server of its own (other tests' clients coming and going on a
    shared server make JACK report xruns to every client)."""
    import uuid

    from tests.conftest import _need_jack
    from tests.daemon import DaemonProcess
    from tests.jack import JackServer
    from tests.osc_client import free_udp_port

    _need_jack()
    server = JackServer(f"bassd-fuzz-{uuid.uuid4().hex[:8]}")
    server.start()
    d = DaemonProcess(tmp_path_factory.mktemp("fuzz"), server, free_udp_port(), free_udp_port(), [])
    try:
        d.wait_for_log("osc_listening")
        d.jack = server  # type: ignore[attr-defined]
        yield d
        assert d.stop() == 0
    finally:
        d.stop()
        server.stop()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(_invalid, min_size=50, max_size=200))
def test_fuzz_malformed_datagrams(fuzz_daemon, batch: list[bytes]) -> None:
    """Thousands of malformed datagrams while playing: the daemon stays up, its engine
    never runs dry, and it drops (and counts) every one of them."""
    d = fuzz_daemon
    before = query_status(d.osc_port, d.reply_port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        for data in batch:
            s.sendto(data, ("127.0.0.1", d.osc_port))
    time.sleep(0.2)
    after = query_status(d.osc_port, d.reply_port)
    assert d.proc.poll() is None
    assert after["stream"] == "playing"
    assert_engine_healthy(after, d.jack)
    assert after["osc_received"] - before["osc_received"] == len(batch) + 1  # + our /status
    assert after["osc_dropped"] - before["osc_dropped"] == len(batch)
