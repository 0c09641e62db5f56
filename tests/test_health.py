"""The live tests' health check can fail: a JACK client that is too slow is caught."""

from __future__ import annotations

import os
import time

import jack  # JACK-Client: a JACK client of the test
import pytest

from tests.health import assert_engine_healthy

pytestmark = pytest.mark.live


def test_a_slow_client_is_reported_late_and_fails_the_check(private_jack_server) -> None:
    """A client whose process callback overruns the cycle shows up in late_clients, and
    assert_engine_healthy fails for it; the driver's own xruns do not count as late."""
    os.environ["JACK_NO_START_SERVER"] = "1"
    mark = private_jack_server.mark()
    client = jack.Client("PortAudio", servername=private_jack_server.name, no_start_server=True)
    calls = {"n": 0}

    @client.set_process_callback
    def process(frames: int) -> None:
        calls["n"] += 1
        if calls["n"] % 50 == 0:  # every 50th cycle overruns its 5.3 ms
            t = time.perf_counter()
            while time.perf_counter() - t < 0.008:
                pass

    client.activate()
    try:
        deadline = time.monotonic() + 10
        while not private_jack_server.late_clients(mark) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        client.deactivate()
        client.close()
    assert private_jack_server.late_clients(mark)
    with pytest.raises(AssertionError, match="overran its cycle"):
        assert_engine_healthy({"dry_callbacks": 0, "server_xruns": 0}, private_jack_server, mark)
