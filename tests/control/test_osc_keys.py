"""Per-client API keys (osc.keys) over real UDP: prefixes, wrong and missing keys, the shared
secret as the admin key, queries, secrecy of the key, and config validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from structlog.testing import capture_logs

from bassd.app.config import ConfigError, load_config
from bassd.control.addresses import Address
from bassd.control.osc_codec import encode_bundle, encode_message
from bassd.control.osc_server import ClientKey, OscSettings, Request
from tests.control.harness import Harness, run

TABLET = "tablet-key-0123456789abcdef"
WALL = "wall-key-fedcba9876543210"
ADMIN = "admin-secret-0123456789"


def record_clients(harness: Harness) -> list[tuple[str, str | None]]:
    """Wrap the controller's dispatch: (address, Request.client) of each handled message."""
    seen: list[tuple[str, str | None]] = []
    real = harness.controller.dispatch

    def dispatch(entry: Address, values: tuple[Any, ...], request: Request) -> None:
        seen.append((entry.path, request.client))
        real(entry, values, request)

    harness.controller.dispatch = dispatch  # type: ignore[method-assign]
    return seen


def errors(harness: Harness) -> list[tuple[Any, ...]]:
    return [m.args for m in harness.replies() if m.address == "/error"]


def test_a_key_sends_only_at_or_below_its_prefixes(harness: Harness) -> None:
    """A key limited to /prompt sends /prompt/next but not /fx/lpf or /master/gain; a prefix
    matches whole path segments only (/fx/h does not permit /fx/hpf)."""
    seen = record_clients(harness)

    async def go() -> None:
        await harness.start(
            keys=(ClientKey("tablet", TABLET, ("/prompt",)), ClientKey("wall", WALL, ("/fx/h",)))
        )
        harness.send(encode_message("/prompt/next", TABLET))
        harness.send(encode_message("/fx/lpf", 5000.0, TABLET))
        harness.send(encode_message("/master/gain", -6.0, TABLET))
        harness.send(encode_message("/fx/hpf", 100.0, WALL))
        await harness.settle()
        assert errors(harness) == [
            ("/fx/lpf", "this key may not send /fx/lpf"),
            ("/master/gain", "this key may not send /master/gain"),
            ("/fx/hpf", "this key may not send /fx/hpf"),
        ]
        assert seen == [("/prompt/next", "tablet")]
        assert harness.engine.output_gain_db == pytest.approx(0.0)
        assert harness.server is not None
        assert harness.server.counters.reasons["key_forbidden"] == 3

    run(go())


def test_a_scene_key_sends_scenes_only(harness: Harness) -> None:
    """A key limited to /scene sends /scene and /scene/surprise but not /master/gain."""
    seen = record_clients(harness)

    async def go() -> None:
        await harness.start(keys=(ClientKey("lights", TABLET, ("/scene",)),))
        harness.send(encode_message("/scene", "zen", TABLET))
        harness.send(encode_message("/scene/surprise", TABLET))
        harness.send(encode_message("/master/gain", -6.0, TABLET))
        await harness.settle()
        assert errors(harness) == [("/master/gain", "this key may not send /master/gain")]
        assert seen == [("/scene", "lights"), ("/scene/surprise", "lights")]

    run(go())


def test_prefixes_match_whole_segments() -> None:
    """/scene permits /scene and /scene/surprise but not /scenery; / permits everything."""
    scene = ClientKey("a", TABLET, ("/scene",))
    assert scene.permits("/scene") and scene.permits("/scene/surprise")
    assert not scene.permits("/scenery") and not scene.permits("/status")
    assert ClientKey("b", WALL, ("/",)).permits("/master/gain")


def test_wrong_and_missing_keys_are_rejected_and_counted(harness: Harness) -> None:
    """A wrong key, no key, or a non-string last argument is bad_key, answered and counted in
    /status's osc_rejections; nothing changes."""
    seen = record_clients(harness)

    async def go() -> None:
        await harness.start(keys=(ClientKey("tablet", TABLET, ("/",)),))
        harness.send(encode_message("/master/gain", -6.0, TABLET[:-1] + "X"))
        harness.send(encode_message("/master/gain", -6.0))
        harness.send(encode_message("/master/gain", -6.0, 7))
        harness.send(encode_message("/segment/skip"))
        await harness.settle()
        assert errors(harness) == [
            ("/master/gain", "missing or wrong key"),
            ("/master/gain", "missing or wrong key"),
            ("/master/gain", "missing or wrong key"),
            ("/segment/skip", "missing or wrong key"),
        ]
        assert harness.engine.output_gain_db == pytest.approx(0.0)
        harness.send(encode_message("/status"))
        await harness.settle()
        st = json.loads({m.address: m for m in harness.replies()}["/status/json"].args[0])
        assert st["osc_rejections"]["bad_key"] == 4
        assert seen == [("/status", None)]

    run(go())


def test_the_key_never_appears_in_logs_or_replies(harness: Harness) -> None:
    """Neither a right key (forbidden or handler-refused) nor a near miss appears in the log
    events, the /error replies or /status; the key's name is logged for key_forbidden."""

    async def go() -> None:
        await harness.start(keys=(ClientKey("tablet", TABLET, ("/prompt", "/status")),))
        with capture_logs() as logs:
            harness.send(encode_message("/fx/lpf", 5000.0, TABLET))
            harness.send(encode_message("/prompt/set", "no-such-prompt", TABLET))
            harness.send(encode_message("/prompt/set", TABLET[:-1]))  # a near miss
            harness.send(encode_message("/prompt/set", "x", 3, TABLET))  # wrong arity
            harness.send(encode_bundle(1, encode_message("/status")))
            await harness.settle()
            replies = harness.replies()
        near = TABLET[:-1]
        text = repr(logs) + repr([(m.address, m.args) for m in replies])
        assert near not in text and TABLET not in text
        assert {m.address for m in replies} >= {"/error", "/status/json"}
        forbidden = [e for e in logs if e.get("reason") == "key_forbidden"]
        assert len(forbidden) == 1 and forbidden[0]["client"] == "tablet"
        assert forbidden[0]["address"] == "/fx/lpf"
        reasons = {e.get("reason") for e in logs}
        assert {"key_forbidden", "bad_key", "handler_error", "bad_arity"} <= reasons

    run(go())


def test_shared_secret_alone_works_as_before(harness: Harness) -> None:
    """Without keys the secret is checked as before (bad_secret) and names the client admin."""
    seen = record_clients(harness)

    async def go() -> None:
        await harness.start(secret=ADMIN)
        harness.send(encode_message("/master/gain", -3.0, "wrong"))
        harness.send(encode_message("/master/gain", -4.0, ADMIN))
        await harness.settle()
        assert errors(harness) == [("/master/gain", "missing or wrong secret")]
        assert harness.engine.output_gain_db == pytest.approx(-4.0)
        assert seen == [("/master/gain", "admin")]

    run(go())


def test_shared_secret_is_the_admin_key_alongside_keys(harness: Harness) -> None:
    """With keys and a secret, the secret is an admin key allowed every address, while a
    limited key stays limited."""
    seen = record_clients(harness)

    async def go() -> None:
        await harness.start(secret=ADMIN, keys=(ClientKey("tablet", TABLET, ("/prompt",)),))
        harness.send(encode_message("/master/gain", -4.0, ADMIN))
        harness.send(encode_message("/master/gain", -8.0, TABLET))
        harness.send(encode_message("/master/gain", -9.0, "wrong"))
        await harness.settle()
        assert errors(harness) == [
            ("/master/gain", "this key may not send /master/gain"),
            ("/master/gain", "missing or wrong key"),
        ]
        assert harness.engine.output_gain_db == pytest.approx(-4.0)
        assert seen == [("/master/gain", "admin")]

    run(go())


def test_queries_stay_open_unless_keys_for_queries(harness: Harness) -> None:
    """By default /status needs no key; with keys_for_queries it needs a key allowing it."""

    async def go() -> None:
        keys = (ClientKey("tablet", TABLET, ("/prompt",)), ClientKey("wall", WALL, ("/status",)))
        await harness.start(keys=keys)
        harness.send(encode_message("/status"))
        await harness.settle()
        assert "/status/json" in {m.address for m in harness.replies()}
        assert harness.transport is not None
        harness.transport.close()
        await harness.start(keys=keys, keys_for_queries=True)
        harness.send(encode_message("/status"))
        harness.send(encode_message("/status", TABLET))
        await harness.settle()
        assert errors(harness) == [
            ("/status", "missing or wrong key"),
            ("/status", "this key may not send /status"),
        ]
        harness.send(encode_message("/status", WALL))
        await harness.settle()
        assert "/status/json" in {m.address for m in harness.replies()}

    run(go())


def _config_error(*overrides: str) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(overrides=list(overrides))
    return str(err.value)


def test_config_keys_reach_the_server_settings() -> None:
    """osc.keys and osc.keys_for_queries become the server's ClientKeys, in order."""
    cfg = load_config(
        overrides=[
            f"osc.keys={{tablet: {{key: {TABLET}, allow: [/prompt, /status]}}, "
            f"wall: {{key: {WALL}, allow: [/]}}}}",
            "osc.keys_for_queries=true",
        ]
    )
    s = OscSettings.from_config(cfg.osc)
    assert s.keys == (
        ClientKey("tablet", TABLET, ("/prompt", "/status")),
        ClientKey("wall", WALL, ("/",)),
    )
    assert s.keys_for_queries
    assert TABLET not in repr(s) and TABLET not in repr(cfg.osc)


def test_config_validation_names_the_problem_and_never_the_key() -> None:
    """A short key, a duplicate key, a bad prefix, an unknown field, the reserved name and
    keys_for_queries without keys are config errors that say what is wrong."""
    short = _config_error("osc.keys={a: {key: short-key, allow: [/prompt]}}")
    assert "osc.keys.a.key" in short and "at least 16 characters" in short
    assert "short-key" not in short
    dup = _config_error(
        f"osc.keys={{a: {{key: {TABLET}, allow: [/prompt]}}, b: {{key: {TABLET}, allow: [/]}}}}"
    )
    assert "b has the same key as a" in dup and TABLET not in dup
    same_as_secret = _config_error(
        f"osc.secret={TABLET}", f"osc.keys={{a: {{key: {TABLET}, allow: [/]}}}}"
    )
    assert "a has the same key as osc.secret" in same_as_secret
    prefix = _config_error(f"osc.keys={{a: {{key: {TABLET}, allow: [prompt]}}}}")
    assert "'prompt' does not start with '/'" in prefix
    pattern = _config_error(f"osc.keys={{a: {{key: {TABLET}, allow: ['/fx/*']}}}}")
    assert "not OSC patterns" in pattern
    unknown = _config_error(f"osc.keys={{a: {{key: {TABLET}, allow: [/], colour: red}}}}")
    assert "unknown field 'colour'" in unknown and TABLET not in unknown
    reserved = _config_error(f"osc.keys={{admin: {{key: {TABLET}, allow: [/]}}}}")
    assert "reserved" in reserved
    lonely = _config_error("osc.keys_for_queries=true")
    assert "osc.keys lists no keys" in lonely
