"""The OSC server over real UDP: validation, bundles on the sample clock, patterns,
security (allowlist, rate limit, shared secret), replies and subscriptions."""

from __future__ import annotations

import json
import time

import pytest

from bassd.control.osc_codec import encode_bundle, encode_message, unix_to_ntp
from tests.control.harness import Harness, run


def test_ints_where_floats_and_integral_floats_where_ints(harness: Harness) -> None:
    """Max sends ints for floats; TouchOSC floats for ints: both are accepted."""

    async def go() -> None:
        await harness.start()
        harness.send(encode_message("/master/gain", -6))
        harness.send(encode_message("/renderer/density", 48.0))
        harness.send(encode_message("/renderer/density", 48.5))
        await harness.settle()
        assert harness.engine.output_gain_db == pytest.approx(-6.0)
        assert harness.engine.params["density"] == 48
        errors = [m.args for m in harness.replies() if m.address == "/error"]
        assert errors == [("/renderer/density", "partials: expected an integer, got type 'f'")]

    run(go())


def test_future_bundle_lands_on_the_sample_clock(harness: Harness) -> None:
    """A bundle timetagged 0.5 s ahead changes nothing now and applies at its block."""

    async def go() -> None:
        await harness.start()
        when = time.time() + 0.5
        harness.send(encode_bundle(unix_to_ntp(when), encode_message("/master/gain", -12.0)))
        await harness.settle()
        assert harness.server is not None and harness.server.counters.scheduled == 1
        harness.render(0.3)
        assert harness.engine.output_gain_db == pytest.approx(0.0)
        harness.render(0.3)
        assert harness.engine.output_gain_db == pytest.approx(-12.0)

    run(go())


def test_bundle_bounds(harness: Harness) -> None:
    """Too far ahead, too many waiting, or nested too deep: dropped with a reason."""

    async def go() -> None:
        await harness.start(max_scheduled=2)
        far = unix_to_ntp(time.time() + 3600)
        harness.send(encode_bundle(far, encode_message("/segment/skip")))
        soon = unix_to_ntp(time.time() + 5)
        harness.send(encode_bundle(soon, *[encode_message("/master/gain", -1.0)] * 3))
        deep = encode_message("/segment/skip")
        for _ in range(6):
            deep = encode_bundle(1, deep)
        harness.send(deep)
        nested_ok = encode_bundle(1, encode_bundle(1, encode_message("/fx/drive", 2)))
        harness.send(nested_ok)
        await harness.settle()
        reasons = [m.args[1] for m in harness.replies() if m.address == "/error"]
        assert reasons == [
            "timetag more than 60 s ahead",
            "more than 2 scheduled messages",
            "malformed packet: bundles nested deeper than 4",
        ]
        assert harness.engine.postfx.settings["drive"] == 2.0

    run(go())


def test_patterns_fan_out_to_matching_addresses(harness: Harness) -> None:
    """/fx/{drive,peak} sets both; a pattern matching nothing is an error."""

    async def go() -> None:
        await harness.start()
        harness.send(encode_message("/fx/{drive,peak}", 0.8))
        harness.send(encode_message("/nothing/*"))
        await harness.settle()
        fx = harness.engine.postfx.settings
        assert fx["drive"] == pytest.approx(0.8) and fx["peak"] == pytest.approx(0.8)
        errors = [m.args for m in harness.replies() if m.address == "/error"]
        assert errors == [("/nothing/*", "no address matches the pattern")]

    run(go())


def test_malformed_and_oversized_datagrams(harness: Harness) -> None:
    """Non-UTF-8 addresses, truncated messages and oversized packets are counted and answered."""

    async def go() -> None:
        await harness.start(max_datagram=256)
        harness.send(b"/\xff\xfe\x00,f\x00\x00\x00\x00\x00\x00")
        harness.send(b"/hr/bpm\x00,f\x00\x00")
        harness.send(encode_message("/prompt/text", "x" * 400))
        await harness.settle()
        reasons = [m.args[1] for m in harness.replies() if m.address == "/error"]
        assert reasons[0] == "malformed packet: address is not valid UTF-8"
        assert reasons[1].startswith("malformed packet: arguments take 0 bytes")
        assert reasons[2].startswith("oversized packet")
        assert harness.server is not None and harness.server.counters.dropped == 3

    run(go())


def test_allowlist_drops_foreign_sources_silently(harness: Harness) -> None:
    """A source outside osc.allow is dropped and counted, and gets no reply."""

    async def go() -> None:
        await harness.start(allow=("10.0.0.0/8",))
        harness.send(encode_message("/status"))
        await harness.settle()
        assert harness.replies() == []
        assert harness.server is not None
        assert harness.server.counters.reasons["not_allowed"] == 1

    run(go())


def test_rate_limit_per_source(harness: Harness) -> None:
    """Beyond the burst, a source's messages are dropped as rate-limited."""

    async def go() -> None:
        await harness.start(rate_limit=1.0, rate_burst=5.0)
        for _ in range(20):
            harness.send(encode_message("/fx/drive", 1.5))
        await harness.settle()
        assert harness.server is not None
        c = harness.server.counters
        assert c.handled == 5 and c.reasons["rate_limited"] == 15

    run(go())


def test_shared_secret_on_state_changing_messages(harness: Harness) -> None:
    """With a secret, state changes need it as the last argument; queries do not."""

    async def go() -> None:
        await harness.start(secret="s3cret")
        harness.send(encode_message("/master/gain", -3.0))
        harness.send(encode_message("/master/gain", -3.0, "wrong"))
        harness.send(encode_message("/master/gain", -4.0, "s3cret"))
        harness.send(encode_message("/status"))
        await harness.settle()
        replies = harness.replies()
        reasons = [m.args[1] for m in replies if m.address == "/error"]
        assert reasons == ["missing or wrong secret"] * 2
        assert harness.engine.output_gain_db == pytest.approx(-4.0)
        assert any(m.address == "/status/json" for m in replies)

    run(go())


def test_prompt_bank_path_cannot_escape_its_folder(harness: Harness) -> None:
    """/prompt/bank with ../ or an absolute path is refused."""

    async def go() -> None:
        await harness.start()
        harness.send(encode_message("/prompt/bank", "../../etc/passwd"))
        harness.send(encode_message("/prompt/bank", "/etc/passwd"))
        await harness.settle()
        reasons = [m.args[1] for m in harness.replies() if m.address == "/error"]
        assert len(reasons) == 2 and all("outside the prompts folder" in r for r in reasons)

    run(go())


def test_status_json_and_per_field_messages(harness: Harness) -> None:
    """/status answers one JSON object and one typed message per field."""

    async def go() -> None:
        await harness.start()
        harness.render(0.2)
        harness.send(encode_message("/baseline/set", 70.0))
        harness.send(encode_message("/hr/bpm", 72))
        harness.send(encode_message("/status"))
        await harness.settle()
        replies = {m.address: m for m in harness.replies()}
        st = json.loads(replies["/status/json"].args[0])
        for key in (
            "state",
            "bpm",
            "baseline_bpm",
            "renderer",
            "segment_index",
            "prompt",
            "sample_rate",
            "block_size",
            "osc_dropped",
        ):
            assert key in st, key
        assert st["state"] == "neutral" and st["bpm"] == 72.0 and st["baseline_bpm"] == 70.0
        assert replies["/status/state"].typetags == "s" and replies["/status/state"].args == (
            "neutral",
        )
        assert replies["/status/bpm"].typetags == "f" and replies["/status/bpm"].args == (72.0,)
        assert replies["/status/segment_index"].typetags == "i"

    run(go())


def test_subscribe_pushes_until_unsubscribe(harness: Harness) -> None:
    """A subscriber gets per-field pushes; after /unsubscribe it gets none."""

    async def go() -> None:
        await harness.start()
        port = harness.replies_sock.getsockname()[1]
        harness.send(encode_message("/subscribe", port))
        await harness.settle()
        assert harness.server is not None
        assert harness.controller.push(harness.server.send_to) == 1
        await harness.settle()
        got = {m.address for m in harness.replies()}
        assert {"/status/state", "/status/bpm", "/status/dry_callbacks"} <= got
        harness.send(encode_message("/unsubscribe", port))
        await harness.settle()
        assert harness.controller.push(harness.server.send_to) == 0

    run(go())


def test_help_lists_every_address(harness: Harness) -> None:
    """/help answers one /help/address per table entry."""
    from bassd.control.addresses import TABLE

    async def go() -> None:
        await harness.start()
        harness.send(encode_message("/help"))
        await harness.settle(0.2)
        helped = [m.args[0] for m in harness.replies() if m.address == "/help/address"]
        assert helped == [a.path for a in TABLE]

    run(go())


def test_state_force_steers_the_next_segments(harness: Harness) -> None:
    """Forcing stress replans with calm prompts and fades to them early."""

    async def go() -> None:
        await harness.start()
        harness.render(0.5)
        harness.send(encode_message("/state/force", "stress"))
        await harness.settle()
        harness.render(0.1)
        cur = harness.engine.controller.current
        assert cur is not None and cur.request.meta["category"] == "calm"
        assert harness.engine.segment_index == 1  # the early crossfade started segment 1

    run(go())


def test_rate_limit_counts_the_messages_of_a_bundle(harness: Harness) -> None:
    """A bundle of N messages costs N tokens: past the burst its messages are dropped."""

    async def go() -> None:
        await harness.start(rate_limit=1.0, rate_burst=5.0)
        harness.send(encode_bundle(1, *[encode_message("/fx/drive", 1.5)] * 20))
        await harness.settle()
        assert harness.server is not None
        c = harness.server.counters
        assert c.handled == 5 and c.reasons["rate_limited"] == 15

    run(go())


def test_replies_to_one_datagram_are_bounded(harness: Harness) -> None:
    """A bundle of /status and /help queries gets at most max_replies replies; the rest counted."""

    async def go() -> None:
        await harness.start(max_replies=64)  # a budget the test socket's buffer holds
        assert harness.server is not None
        budget = harness.server.settings.max_replies
        harness.send(encode_bundle(1, *[encode_message("/status")] * 40, encode_message("/help")))
        await harness.settle(0.2)
        assert len(harness.replies()) == budget
        c = harness.server.counters
        served = c.handled
        assert served < 41 and c.reasons["reply_budget"] >= 41 - served
        harness.send(encode_message("/help"))  # the next datagram has its own budget
        await harness.settle(0.2)
        assert len([m for m in harness.replies() if m.address == "/help/address"]) > 30

    run(go())


def test_rejections_are_counted_by_a_fixed_set_of_codes(harness: Harness) -> None:
    """Client text (bad ids, paths) stays out of the counter keys; /status/json still fits."""
    from bassd.control.osc_reasons import REASONS

    async def go() -> None:
        await harness.start()
        for k in range(0, 3000, 100):
            ids = [encode_message("/prompt/set", f"no-such-prompt-{k + j:04d}") for j in range(100)]
            harness.send(encode_bundle(1, *ids))
        for k in range(50):
            harness.send(encode_message(f"/no/such/address/{k}"))
        harness.send(encode_message("/fx/drive", "loud"))
        harness.send(encode_message("/fx/drive", 99.0))
        harness.send(encode_message("/fx/drive"))
        harness.send(encode_message("/state/force", "sleepy"))
        assert harness.server is not None
        for _ in range(100):  # until all 84 datagrams are in (a loaded machine is slow)
            await harness.settle(0.05)
            if harness.server.counters.received >= 84:
                break
        harness.replies()
        reasons = harness.server.counters.reasons
        assert set(reasons) <= set(REASONS)
        assert reasons["handler_error"] == 3000 and reasons["unknown_address"] == 50
        assert reasons["bad_type"] == reasons["out_of_range"] == 1
        assert reasons["bad_arity"] == reasons["bad_choice"] == 1
        harness.send(encode_message("/status"))
        replies: dict = {}
        for _ in range(100):  # up to 5 s: a loaded machine answered later than one settle once
            await harness.settle()
            replies.update({m.address: m for m in harness.replies()})
            if "/status/json" in replies:
                break
        st = json.loads(replies["/status/json"].args[0])
        assert st["osc_rejections"]["handler_error"] == 3000

    run(go())


def test_a_reply_too_large_to_send_is_counted_and_answered(harness: Harness) -> None:
    """A reply over max_reply bytes is not sent short: it is counted and the peer gets /error."""

    async def go() -> None:
        await harness.start(max_reply=256)
        harness.send(encode_message("/status"))
        await harness.settle()
        replies = harness.replies()
        assert "/status/json" not in {m.address for m in replies}
        errors = [m.args for m in replies if m.address == "/error"]
        assert len(errors) == 1 and errors[0][0] == "/status"
        assert errors[0][1].startswith("reply /status/json of ")
        assert harness.server is not None
        assert harness.server.counters.reasons["reply_too_large"] == 1

    run(go())


def test_unexpected_exceptions_are_counted_and_the_server_keeps_serving(
    harness: Harness,
) -> None:
    """A handler raising RuntimeError or KeyError, or a failing scheduler, is counted; the
    next datagram is still served."""
    from bassd.control.addresses import Address
    from bassd.control.osc_server import Request

    real = harness.controller.dispatch

    def dispatch(entry: Address, values: tuple, request: Request) -> None:  # type: ignore[type-arg]
        if entry.path == "/fx/hpf":
            raise RuntimeError("handler bug")
        if entry.path == "/fx/lpf":
            raise KeyError("lpf")
        real(entry, values, request)

    def schedule(when: float, action: object) -> bool:
        raise RuntimeError("scheduler bug")

    harness.controller.dispatch = dispatch  # type: ignore[method-assign]
    harness._schedule = schedule  # type: ignore[method-assign]

    async def go() -> None:
        await harness.start()
        harness.send(encode_message("/fx/hpf", 100.0))
        harness.send(encode_message("/fx/lpf", 5000.0))
        later = unix_to_ntp(time.time() + 5)
        harness.send(encode_bundle(later, encode_message("/fx/drive", 3.0)))
        harness.send(encode_message("/fx/drive", 2.0))
        await harness.settle()
        assert harness.server is not None
        reasons = harness.server.counters.reasons
        assert reasons["internal_error"] == 2 and reasons["handler_error"] == 1
        assert harness.engine.postfx.settings["drive"] == 2.0

    run(go())
