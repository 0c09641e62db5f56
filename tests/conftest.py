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

# tests that play in real time on a JACK server (the daemon's health is asserted on them)
LIVE_FIXTURES = frozenset({"jack_server", "private_jack_server", "start_daemon"})
NICE_OFFLINE = 10  # under xdist: what the offline tests run at, beside a live one


def _is_live(item: pytest.Item) -> bool:
    return item.get_closest_marker("live") is not None or bool(
        LIVE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the marks into groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The README's command runs two xdist workers (``-n 2 --dist loadgroup``). Every test
    that plays in real time goes in one group, so one worker runs them one after another as
    a serial run would (one JACK server, one daemon at a time) and first (the longest group);
    the other tests are grouped by file (a module's fixtures are built once) and share the
    other worker, and this one when it is done."""
    live, rest = [], []
    for item in items:
        if _is_live(item):
            item.add_marker(pytest.mark.xdist_group("live"))
            live.append(item)
        else:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
            rest.append(item)
    items[:] = live + rest


def _set_nice(value: int) -> None:
    """Every thread of this process at nice ``value`` (on Linux the nice value is per thread)."""
    for tid in os.listdir("/proc/self/task"):
        try:
            os.setpriority(os.PRIO_PROCESS, int(tid), value)
        except (OSError, ValueError):  # a thread that just ended
            continue


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under xdist, a test that does not play in real time (and the processes it starts) runs
    at nice 10, so on a 2-core machine it yields the cores to a live test's daemon, its
    neural worker and JACK; a live test runs at nice 0. Only as root (going back to 0
    needs it); elsewhere every test keeps the nice it was started with."""
    if "PYTEST_XDIST_WORKER" not in os.environ or os.geteuid() != 0:
        return
    _set_nice(0 if _is_live(item) else NICE_OFFLINE)


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
