"""The group: section: peers as host:port, one-line errors naming the entry, cross-checks
against the OSC section."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bassd.control.config import OscConfig
from bassd.control.group_config import GroupConfig, PeerAddress, check_group_osc, parse_peer


@pytest.mark.parametrize(
    ("text", "peer"),
    [
        ("192.168.1.12:8000", PeerAddress("192.168.1.12", 8000)),
        ("room-b.local:9000", PeerAddress("room-b.local", 9000)),
        ("localhost:1", PeerAddress("localhost", 1)),
        ("[fe80::1]:8000", PeerAddress("fe80::1", 8000)),
    ],
)
def test_a_peer_is_host_and_port(text: str, peer: PeerAddress) -> None:
    """IPv4, a DNS name and a bracketed IPv6 address each parse to their host and port,
    and print back as written."""
    assert parse_peer(text) == peer
    assert str(parse_peer(text)) == text


@pytest.mark.parametrize(
    "text",
    ["room-b", "room-b:", ":8000", "room b:8000", "fe80::1:8000", "[fe80::1]8000",
     "[nothing]:8000", "room-b:port", "room-b:0", "room-b:70000", "-room:8000"],
)  # fmt: skip
def test_a_bad_peer_is_one_line_naming_it(text: str) -> None:
    """A malformed entry in group.peers is refused by validation with one line that quotes
    the entry and shows the form expected."""
    with pytest.raises(ValidationError) as err:
        GroupConfig(peers=["10.0.0.2:8000", text])
    (problem,) = err.value.errors()
    assert problem["loc"] == ("peers",)
    assert repr(text) in problem["msg"] and "host:port" in problem["msg"]
    assert "\n" not in problem["msg"]


def test_unknown_keys_and_duplicates_are_errors() -> None:
    """An unknown key is named; the same peer listed twice (in any spelling of case) is an
    error naming both entries."""
    with pytest.raises(ValidationError) as err:
        GroupConfig.model_validate({"peers": [], "leed_seconds": 1})
    assert err.value.errors()[0]["loc"] == ("leed_seconds",)
    with pytest.raises(ValidationError, match="listed twice"):
        GroupConfig(peers=["Room-B:8000", "room-b:8000"])


def test_defaults_are_no_group_on_a_bar_a_fifth_of_a_second_ahead() -> None:
    """By default there are no peers (changes apply at once), quantum 4 beats, lead 0.2 s."""
    g = GroupConfig()
    assert (g.peers, g.quantum, g.lead_seconds, g.id) == ([], 4.0, 0.2, None)


def osc(**kw: object) -> OscConfig:
    return OscConfig.model_validate(kw)


def test_a_peer_that_is_this_daemon_is_refused() -> None:
    """Listing this daemon's own OSC endpoint would apply each change twice: refused, also
    through localhost or a wildcard host; another port on the same host is fine."""
    for peer in ("127.0.0.1:8000", "localhost:8000"):
        with pytest.raises(ValueError, match="this daemon itself"):
            check_group_osc(GroupConfig(peers=[peer]), osc(port=8000))
    here = osc(host="0.0.0.0", port=8000, allow=["127.0.0.0/8"])
    with pytest.raises(ValueError, match="this daemon itself"):
        check_group_osc(GroupConfig(peers=["127.0.0.1:8000"]), here)
    check_group_osc(GroupConfig(peers=["127.0.0.1:8001"]), osc(port=8000))


def test_peers_must_be_able_to_reach_this_daemon() -> None:
    """A peer beyond loopback cannot reach a daemon on loopback; a peer's IP outside
    osc.allow would see its changes dropped; with osc.keys the daemons need osc.secret."""
    with pytest.raises(ValueError, match="beyond loopback"):
        check_group_osc(GroupConfig(peers=["192.168.1.12:8000"]), osc())
    lan = osc(host="0.0.0.0", allow=["192.168.1.0/24"])
    check_group_osc(GroupConfig(peers=["192.168.1.12:8000", "room-c.local:8000"]), lan)
    with pytest.raises(ValueError, match=r"'10\.0\.0\.7:8000' is not in osc.allow"):
        check_group_osc(GroupConfig(peers=["10.0.0.7:8000"]), lan)
    keyed = osc(keys={"touchosc": {"key": "k" * 16, "allow": ["/scene"]}})
    with pytest.raises(ValueError, match=r"set osc\.secret"):
        check_group_osc(GroupConfig(peers=["127.0.0.1:8001"]), keyed)
    check_group_osc(GroupConfig(), keyed)  # no peers: nothing to check
