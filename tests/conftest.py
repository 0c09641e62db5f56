"""Shared fixtures: real JACK servers (dummy backend) and daemon processes."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import DaemonProcess
from tests.jack import JackServer


def _need_jack() -> None:
    if shutil.which("jackd") is None:
        if os.environ.get("CI"):
            pytest.fail("jackd is not installed, and CI must run the live tests (apt: jackd2)")
        pytest.skip("jackd is not installed (Debian package jackd2)")


@pytest.fixture
def need_liblo() -> None:
    """liblo's oscsend/oscdump, the independent OSC client of the live tests."""
    from tests.osc_client import have_liblo

    if not have_liblo():
        if os.environ.get("CI"):
            pytest.fail("liblo-tools (oscsend/oscdump) must be installed in CI")
        pytest.skip("liblo-tools (oscsend/oscdump) not installed")


@pytest.fixture(scope="session")
def jack_server() -> Iterator[JackServer]:
    """One JACK dummy-backend server (48 kHz, 256 frames) for the session."""
    _need_jack()
    server = JackServer(f"bassd-test-{uuid.uuid4().hex[:8]}")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_jack_server() -> Iterator[JackServer]:
    """A JACK server of the test's own (for tests that stop and restart it)."""
    _need_jack()
    server = JackServer(f"bassd-priv-{uuid.uuid4().hex[:8]}")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_daemon(tmp_path: Path):
    """Factory: start ``bassd run`` on a JACK server; stopped (SIGTERM) after the test."""
    from tests.osc_client import free_udp_port

    started: list[DaemonProcess] = []

    def start(jack: JackServer, *extra: str) -> DaemonProcess:
        d = DaemonProcess(tmp_path, jack, free_udp_port(), free_udp_port(), list(extra))
        started.append(d)
        d.wait_for_log("osc_listening")
        return d

    yield start
    for d in started:
        d.stop()
