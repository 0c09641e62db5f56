"""``bassd midi ports``: lists a JACK server's MIDI ports; with no server, one error line."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from tests.control.test_midi_input import Keyboard
from tests.jack import JackServer


def midi_ports(server: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, JACK_DEFAULT_SERVER=server, JACK_NO_START_SERVER="1")
    return subprocess.run([sys.executable, "-m", "bassd", "midi", "ports", "--api", "jack"],
                          env=env, capture_output=True, text=True, timeout=60)  # fmt: skip


def test_midi_ports_lists_the_keyboard(
    jack_server: JackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyboard's output port on the server is printed under inputs; exit 0."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", jack_server.name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    kb = Keyboard(f"kbd-{uuid.uuid4().hex[:8]}")
    try:
        r = midi_ports(jack_server.name)
    finally:
        kb.close()
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    inputs, outputs = (
        lines.index("inputs (jack):"),
        next(i for i, line in enumerate(lines) if line.startswith("outputs (jack)")),
    )
    assert f"  {kb.name}" in lines[inputs + 1 : outputs]


def test_midi_ports_without_a_server_prints_one_line() -> None:
    """No JACK server: exit 1 and a single 'bassd: cannot open the MIDI backend' line, no traceback."""
    r = midi_ports(f"nobody-{uuid.uuid4().hex[:8]}")
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("bassd: cannot open the MIDI backend (api jack)")
