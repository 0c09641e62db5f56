"""OSC scripts for offline renders: lines become timetagged bundles; bad lines are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bassd.app.osc_script import EPOCH, OscScriptError, load_script
from bassd.control.osc_codec import Bundle, ntp_to_unix, parse_packet


def test_lines_become_bundles_sent_ahead_of_their_time(tmp_path: Path) -> None:
    """Each line is one bundle timetagged at its seconds (on the simulated epoch), sent 0.1 s
    earlier; arguments take the table's types (an int where a float is declared)."""
    p = tmp_path / "s.txt"
    p.write_text("# a comment\n2.5 /som/xy 0 1\n\n0.0 /renderer/partials glass  # inline\n")
    script = load_script(p)
    sends = sorted(script.datagrams)
    assert [round(t, 3) for t, _ in sends] == [0.0, 2.4]
    packet = parse_packet(sends[1][1], 4)
    assert isinstance(packet, Bundle)
    assert ntp_to_unix(packet.timetag) == pytest.approx(EPOCH + 2.5, abs=1e-6)
    (msg,) = packet.elements
    assert msg.address == "/som/xy" and msg.typetags == "ff" and msg.args == (0.0, 1.0)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1.0 /no/such 3", "unknown address '/no/such'"),
        ("x /som/xy 0 0", "expected SECONDS ADDRESS"),
        ("-1 /som/xy 0 0", "negative time"),
        ("1 /som/xy left 0", "/som/xy"),
        ('1 /prompt/text "unclosed', "expected SECONDS ADDRESS"),
    ],
)
def test_a_bad_line_is_named(tmp_path: Path, line: str, message: str) -> None:
    """A wrong line fails with its file:line and what is wrong."""
    p = tmp_path / "bad.txt"
    p.write_text("0.5 /segment/skip\n" + line + "\n")
    with pytest.raises(OscScriptError, match=message) as err:
        load_script(p)
    assert f"{p}:2" in str(err.value)
