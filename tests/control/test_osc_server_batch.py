"""Batches in the OSC server: every datagram checked and counted on its own, repeated
set-a-value controls coalesced to the latest value per (peer, address, client), nothing
else coalesced; and the socket read by add_reader in batches, recvmmsg or the fallback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bassd.control.addresses import TABLE, Address
from bassd.control.osc_codec import encode_bundle, encode_message, unix_to_ntp
from bassd.control.osc_server import (
    ClientKey,
    OscServer,
    OscSettings,
    Request,
    coalescable,
    start_osc_server,
)
from bassd.control.udp_batch import mmsg_available
from tests.control.harness import Harness, run
from tests.osc_client import oscsend

A = ("127.0.0.1", 40001)
B = ("127.0.0.1", 40002)


class Recorder:
    """A surface that records what reaches the controller; /status replies one message."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], str | None, tuple[str, int]]] = []

    def dispatch(self, entry: Address, values: tuple[Any, ...], request: Request) -> None:
        self.calls.append((entry.path, values, request.client, request.peer))
        if entry.path == "/status":
            request.reply("/status/json", "{}")


def _server(**settings: Any) -> tuple[OscServer, Recorder, list[tuple[float, Any]]]:
    rec = Recorder()
    queued: list[tuple[float, Any]] = []

    def schedule(when: float, action: Any) -> bool:
        queued.append((when, action))
        return True

    return OscServer(rec, OscSettings(**settings), schedule), rec, queued


def _batch(*items: tuple[bytes, tuple[str, int]]) -> list[tuple[bytes, tuple[str, int], int]]:
    return [(d, p, len(d)) for d, p in items]


def test_the_coalescable_set_is_the_tables_set_a_value_addresses() -> None:
    """Numeric setters coalesce; samples, triggers, optional-argument triggers, named
    setters and queries never do."""
    paths = coalescable(TABLE)
    for p in ("/fx/drive", "/fx/lpf", "/master/gain", "/som/xy", "/vae/slider/3", "/jam/tempo"):
        assert p in paths
    for p in (
        "/hr/bpm",  # a sample: each one counts
        "/hr/rr",
        "/segment/skip",  # triggers
        "/prompt/next",
        "/transport/start",  # optional fade: a trigger with an option
        "/baseline/start",
        "/adapter/blend",  # the name picks what is set
        "/scene",
        "/status",  # queries
        "/subscribe",
        "/debug/fail_callback",
    ):
        assert p not in paths


def test_repeated_controls_in_one_batch_keep_the_last_value_and_are_counted() -> None:
    """Ten /fx/drive in one drain: the controller sees only the last; all ten are received
    and handled, nine coalesced."""
    srv, rec, _ = _server()
    srv.datagrams_received(
        _batch(*((encode_message("/fx/drive", 1.0 + i / 10), A) for i in range(10)))
    )
    assert rec.calls == [("/fx/drive", (pytest.approx(1.9),), None, A)]
    c = srv.counters
    assert (c.received, c.messages, c.handled, c.coalesced, c.dropped) == (10, 10, 10, 9, 0)
    f = c.figures()
    assert f["osc_coalesced"] == 9 and f["osc_handled"] == 10


def test_coalescing_is_per_address_and_per_peer() -> None:
    """Different addresses and different peers are kept apart, each at its latest value."""
    srv, rec, _ = _server()
    srv.datagrams_received(
        _batch(
            (encode_message("/fx/drive", 1.0), A),
            (encode_message("/fx/lpf", 5000.0), A),
            (encode_message("/fx/drive", 2.0), B),
            (encode_message("/fx/drive", 3.0), A),
            (encode_message("/som/xy", 0.1, 0.2), A),
            (encode_message("/som/xy", 0.3, 0.4), A),
        )
    )
    got = {(p, peer): v for p, v, _, peer in rec.calls}
    assert len(rec.calls) == 4
    assert got[("/fx/drive", A)] == (3.0,) and got[("/fx/drive", B)] == (2.0,)
    assert got[("/fx/lpf", A)] == (5000.0,)
    assert got[("/som/xy", A)] == (pytest.approx(0.3), pytest.approx(0.4))
    assert srv.counters.coalesced == 2


def test_separate_batches_are_never_merged() -> None:
    """Coalescing stays within one drain: one datagram per batch, every value applied."""
    srv, rec, _ = _server()
    for i in range(5):
        srv.datagram_received(encode_message("/fx/drive", 1.0 + i), A)
    assert [v for _, v, _, _ in rec.calls] == [(1.0 + i,) for i in range(5)]
    assert srv.counters.coalesced == 0


def test_triggers_and_queries_are_not_coalesced() -> None:
    """Three skips, two prompt/next and two /status all reach the controller; HR samples too."""
    srv, rec, _ = _server()
    msgs = [encode_message("/segment/skip")] * 3 + [encode_message("/prompt/next")] * 2
    msgs += [encode_message("/status")] * 2
    msgs += [encode_message("/hr/bpm", 70.0 + i) for i in range(4)]
    srv.datagrams_received(_batch(*((m, A) for m in msgs)))
    assert [p for p, *_ in rec.calls].count("/segment/skip") == 3
    assert [p for p, *_ in rec.calls].count("/prompt/next") == 2
    assert [p for p, *_ in rec.calls].count("/status") == 2
    assert [v for p, v, *_ in rec.calls if p == "/hr/bpm"] == [(70.0 + i,) for i in range(4)]
    assert srv.counters.coalesced == 0


def test_bundles_are_not_coalesced_immediate_or_timetagged() -> None:
    """A bundle's messages run (or are scheduled) each one: never folded into a batch's value."""
    srv, rec, queued = _server()
    future = unix_to_ntp(srv.clock() + 5.0)
    srv.datagrams_received(
        _batch(
            (
                encode_bundle(
                    1, encode_message("/fx/drive", 1.0), encode_message("/fx/drive", 2.0)
                ),
                A,
            ),
            (encode_message("/fx/drive", 3.0), A),
            (encode_bundle(future, encode_message("/fx/drive", 4.0)), A),
            (encode_bundle(future, encode_message("/fx/drive", 5.0)), A),
        )
    )
    assert [v for _, v, _, _ in rec.calls] == [(1.0,), (2.0,), (3.0,)]
    assert len(queued) == 2 and srv.counters.scheduled == 2
    for _, action in queued:
        action()
    assert [v for _, v, _, _ in rec.calls][3:] == [(4.0,), (5.0,)]
    assert srv.counters.coalesced == 0


def test_a_trigger_or_query_sees_every_value_sent_before_it() -> None:
    """Held values are applied before anything else runs: the order the controller sees
    keeps /status after the drive sent before it, and the later drive after it."""
    srv, rec, _ = _server()
    srv.datagrams_received(
        _batch(
            (encode_message("/fx/drive", 1.0), A),
            (encode_message("/fx/drive", 1.5), A),
            (encode_message("/status"), A),
            (encode_message("/fx/drive", 2.0), A),
            (encode_message("/fx/drive", 2.5), A),
        )
    )
    assert [(p, v) for p, v, _, _ in rec.calls] == [
        ("/fx/drive", (1.5,)),
        ("/status", ()),
        ("/fx/drive", (2.5,)),
    ]
    assert srv.counters.coalesced == 2


def test_rejected_messages_in_a_batch_are_each_counted_and_never_coalesced() -> None:
    """Out of range, wrong type, malformed and oversized datagrams are dropped and counted
    one by one; the valid value around them is still applied."""
    srv, rec, _ = _server(max_datagram=64)
    srv.datagrams_received(
        _batch(
            (encode_message("/fx/drive", 2.0), A),
            (encode_message("/fx/drive", 99.0), A),
            (encode_message("/fx/drive", "loud"), A),
            (b"/fx/drive\0\0\0,f", A),
            (b"\0" * 128, A),
        )
    )
    assert rec.calls == [("/fx/drive", (2.0,), None, A)]
    r = srv.counters.reasons
    assert (r["out_of_range"], r["bad_type"], r["malformed"], r["oversized"]) == (1, 1, 1, 1)
    assert srv.counters.received == 5 and srv.counters.dropped == 4
    assert srv.counters.coalesced == 0


def test_rate_limit_charges_every_message_before_coalescing() -> None:
    """Coalesced messages still pay their tokens: beyond the burst they are rate-limited."""
    srv, rec, _ = _server(rate_limit=1.0, rate_burst=5.0)
    srv.datagrams_received(_batch(*((encode_message("/fx/drive", 1.0 + i), A) for i in range(20))))
    assert srv.counters.reasons["rate_limited"] == 15
    assert srv.counters.handled == 5 and srv.counters.coalesced == 4
    assert rec.calls == [("/fx/drive", (5.0,), None, A)]


def test_coalescing_keeps_clients_apart_and_keys_are_checked_on_each() -> None:
    """With keys, each message's key is checked; the latest value is kept per client."""
    keys = (ClientKey("pad", "k-pad", ("/fx",)), ClientKey("max", "k-max", ("/",)))
    srv, rec, _ = _server(keys=keys)
    srv.datagrams_received(
        _batch(
            (encode_message("/fx/drive", 1.0, "k-pad"), A),
            (encode_message("/fx/drive", 2.0, "k-max"), A),
            (encode_message("/fx/drive", 3.0, "k-pad"), A),
            (encode_message("/fx/drive", 4.0, "wrong"), A),
            (encode_message("/master/gain", -3.0, "k-pad"), A),  # forbidden for pad
        )
    )
    assert sorted((v, client) for _, v, client, _ in rec.calls) == [
        ((2.0,), "max"),
        ((3.0,), "pad"),
    ]
    r = srv.counters.reasons
    assert r["bad_key"] == 1 and r["key_forbidden"] == 1 and srv.counters.coalesced == 1


@pytest.mark.parametrize("kind", ["recvfrom", *(["recvmmsg"] if mmsg_available() else [])])
def test_a_live_socket_is_read_in_batches(kind: str) -> None:
    """Through a real UDP socket: every datagram counted, values coalesced within the drains,
    the last one applied, /status answered, and the receiver named in the counters."""

    async def go() -> None:
        rec = Recorder()
        import socket

        replies = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        replies.bind(("127.0.0.1", 0))
        replies.settimeout(5)
        settings = OscSettings(reply_port=replies.getsockname()[1])
        transport, srv = await start_osc_server("127.0.0.1", 0, rec, settings, receive=kind)
        port = transport.get_extra_info("sockname")[1]
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        n = 2000
        for i in range(n):  # sent before the loop runs: the drains see full batches
            client.sendto(encode_message("/fx/drive", 1.0 + (i % 90) / 10), ("127.0.0.1", port))
        client.sendto(encode_message("/status"), ("127.0.0.1", port))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if srv.counters.received >= n + 1:
                break
        c = srv.counters
        assert c.receiver == kind and c.received == n + 1 and c.handled == n + 1
        assert c.batches >= (n + 1) // srv.drain_limit and c.batch_max <= srv.drain_limit
        assert c.coalesced > 0 and len(rec.calls) == n + 1 - c.coalesced
        drives = [v for p, v, *_ in rec.calls if p == "/fx/drive"]
        assert drives[-1] == (pytest.approx(1.0 + ((n - 1) % 90) / 10),)
        assert replies.recv(65536).startswith(b"/status/json")
        transport.close()
        client.close()
        replies.close()

    run(go())


@pytest.mark.usefixtures("need_liblo")
def test_an_independent_client_drives_the_batched_server(harness: Harness) -> None:
    """liblo's oscsend (its own process and socket) sets FX through the batched socket, and
    /status reports the new counters."""

    async def go() -> None:
        await harness.start()
        await asyncio.to_thread(oscsend, harness.port, "/fx/drive", "f", 2.5)
        await asyncio.to_thread(oscsend, harness.port, "/fx/lpf", "i", 7000)
        await asyncio.to_thread(oscsend, harness.port, "/segment/skip")
        await harness.settle(0.1)
        assert harness.server is not None
        assert harness.server.counters.received == 3 and harness.server.counters.handled == 3
        harness.send(encode_message("/status"))
        st: dict[str, Any] = {}
        for _ in range(100):
            await harness.settle(0.02)
            got = {m.address: m for m in harness.replies()}
            if "/status/json" in got:
                st = json.loads(got["/status/json"].args[0])
                break
        assert st["fx"]["drive"] == 2.5 and st["fx"]["lpf_hz"] == 7000.0
        assert st["osc_receiver"] == ("recvmmsg" if mmsg_available() else "recvfrom")
        assert st["osc_batches"] >= 3 and st["osc_coalesced"] == 0

    run(go())


def test_the_header_fast_path_checks_exactly_as_the_parser_does() -> None:
    """Datagrams whose address and type tags were seen before skip the parser; every
    verdict (values, rejections by reason) is the same as with the fast path off."""
    import struct

    good = encode_message("/fx/drive", 2.0)
    seq = [
        good,
        encode_message("/fx/drive", 3.0),
        encode_message("/fx/drive", 99.0),  # out of range, same header
        encode_message("/fx/drive", float("nan")),
        encode_message("/fx/drive", 4),  # an int where a float is expected
        encode_message("/fx/drive", 1.0, 2.0),  # arity
        encode_message("/fx/drive", 1.0, 2.0),
        good[:-4],  # the header alone: arguments missing
        good + b"\0\0\0\0",  # bytes left over
        good[:-4] + struct.pack(">f", 0.05),  # below range
        encode_message("/jam/meter", 4),
        encode_message("/jam/meter", 4.0),  # integral float to an int argument
        encode_message("/jam/meter", 4.5),
        encode_message("/jam/meter", 4.5),
        encode_message("/jam/meter", 99),
        encode_message("/som/xy", 0.2, 0.9),
        encode_message("/som/xy", 0.2, 1.9),
        encode_message("/status"),
        encode_message("/status"),
    ]
    seq = seq * 3
    fast, fast_rec, _ = _server()
    slow, slow_rec, _ = _server()
    slow._plan = lambda msg, data: None  # type: ignore[method-assign]
    for data in seq:  # one per batch: nothing coalesced, every value visible
        fast.datagram_received(data, A)
        slow.datagram_received(data, A)
    assert fast._plans and not slow._plans
    assert fast_rec.calls == slow_rec.calls
    for name in ("received", "messages", "handled", "dropped"):
        assert getattr(fast.counters, name) == getattr(slow.counters, name), name
    assert fast.counters.reasons == slow.counters.reasons
    assert fast.counters.reasons["out_of_range"] == 5 * 3  # drive 99, nan, 0.05; meter 99; xy


def test_no_fast_path_where_a_secret_or_keys_are_in_play() -> None:
    """With a secret, a message without it is refused every time, never remembered as good."""
    srv, rec, _ = _server(secret="s3cret")
    for _ in range(3):
        srv.datagram_received(encode_message("/fx/drive", 2.0, "s3cret"), A)
        srv.datagram_received(encode_message("/fx/drive", 2.0), A)
    assert not srv._plans
    assert len(rec.calls) == 3 and srv.counters.reasons["bad_secret"] == 3


def test_reading_goes_on_after_a_busy_drain() -> None:
    """A drain of a few dozen datagrams that empties the socket pauses the reader briefly
    (a flood gathers into bigger batches); it resumes: later datagrams are all read."""

    async def go() -> None:
        import socket

        rec = Recorder()
        transport, srv = await start_osc_server("127.0.0.1", 0, rec, OscSettings(reply_port=9))
        port = transport.get_extra_info("sockname")[1]
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for round_ in range(5):
            for _ in range(40):  # >= FLOOD_BATCH, < the drain limit: a pause follows
                client.sendto(encode_message("/segment/skip"), ("127.0.0.1", port))
            for _ in range(200):
                await asyncio.sleep(0.005)
                if srv.counters.received >= 40 * (round_ + 1):
                    break
            assert srv.counters.received == 40 * (round_ + 1)
        assert len(rec.calls) == 200  # triggers: every one applied
        transport.close()
        client.close()

    run(go())
