"""The live tests' health check can fail, on the engine's own figures; the server's log
names a JACK client that is too slow."""

from __future__ import annotations

import os
import time

import jack  # JACK-Client: a JACK client of the test
import pytest

from tests.health import (
    assert_engine_healthy,
    loop_taken_off_cpu,
    machine_stalled,
    since_baseline,
)

pytestmark = pytest.mark.live


def test_a_slow_client_is_reported_late_but_only_bassds_own_figures_fail_the_check(
    private_jack_server,
) -> None:
    """A client whose process callback overruns the cycle shows up in late_clients (what the
    benchmarks count); the health check fails on bassd's own callback duration reaching a
    cycle, not on the server's report of a client, which a stall of the whole VM also makes."""
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
    private_jack_server.stop()  # its log stops growing: every check below reads one window
    assert private_jack_server.late_clients(mark)
    healthy = {"dry_callbacks": 0, "late_pumps": 0, "server_xruns": 0, "callback_max_us": 40.0}
    assert_engine_healthy(healthy, private_jack_server, mark)
    cycle_us = 1e6 * private_jack_server.period / private_jack_server.rate
    slow_callback = {**healthy, "callback_max_us": cycle_us + 1}
    if private_jack_server.driver_stalls(mark):  # the driver itself overran: excused
        assert_engine_healthy(slow_callback, private_jack_server, mark)
    else:  # the machine's verdict given: stalled excuses it, not stalled fails it
        assert_engine_healthy(slow_callback, private_jack_server, mark, stalled=True)
        with pytest.raises(AssertionError, match="callback took"):
            assert_engine_healthy(slow_callback, private_jack_server, mark, stalled=False)
    # the verdict read once (steal time keeps arriving): excused where the machine stalled,
    # bassd's failure where it did not
    stalled = machine_stalled(private_jack_server, mark)
    for figure in ("dry_callbacks", "late_pumps"):
        unhealthy = {**healthy, figure: 1}
        if stalled:
            assert_engine_healthy(unhealthy, private_jack_server, mark, stalled=True)
        with pytest.raises(AssertionError):
            assert_engine_healthy(unhealthy, private_jack_server, mark, stalled=False)


def test_a_dry_ring_is_excused_only_when_every_slow_block_was_off_cpu() -> None:
    """Dry callbacks beside slow blocks that were all off-CPU (and no late pump) are the
    machine's; one slow block of bassd's own, or a late pump, makes them bassd's."""
    taken = {"dry_callbacks": 4, "late_pumps": 0, "slow_blocks": 1, "offcpu_blocks": 1}
    assert loop_taken_off_cpu(taken)
    assert not loop_taken_off_cpu({**taken, "slow_blocks": 2})  # one was bassd's own work
    assert not loop_taken_off_cpu({**taken, "late_pumps": 1})
    assert not loop_taken_off_cpu({**taken, "slow_blocks": 0, "offcpu_blocks": 0})


class _Log:
    """A server whose log holds ``stalls`` driver overruns (the checks read only the log)."""

    period, rate = 256, 48000

    def __init__(self, stalls: int) -> None:
        self.text = "JackTimedDriver::Process XRun = 25 usec\n" * stalls

    def log_text(self, since: int = 0) -> str:
        return self.text

    def driver_stalls(self, since: int = 0) -> int:
        return self.text.count("JackTimedDriver::Process XRun")

    def xruns(self) -> int:
        return self.driver_stalls()


def test_a_slow_p999_is_excused_only_by_as_many_driver_overruns_as_slow_callbacks() -> None:
    """Under 1000 callbacks the p99.9 is the max, so one driver overrun excuses it; over 10000
    callbacks it is the 11th slowest, which one overrun cannot explain; with no overrun a slow
    p99.9 always fails the check."""
    slow = {"dry_callbacks": 0, "late_pumps": 0, "server_xruns": 0, "callback_max_us": 9000.0,
            "callback_p999_us": 8193.0}  # fmt: skip
    assert_engine_healthy({**slow, "callback_count": 451}, _Log(1), stalled=True)  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        assert_engine_healthy({**slow, "callback_count": 10_000}, _Log(1), stalled=True)  # type: ignore[arg-type]
    assert_engine_healthy({**slow, "callback_count": 10_000}, _Log(11), stalled=True)  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        assert_engine_healthy({**slow, "callback_count": 451}, _Log(0), stalled=False)  # type: ignore[arg-type]


def test_a_window_from_a_baseline_counts_only_what_came_after_it() -> None:
    """Against a baseline status, dry callbacks and late pumps before it leave the window
    healthy and one after it fails the check; a callback max unchanged since the baseline
    belongs to the earlier window, a larger one to this."""
    base = {"dry_callbacks": 8, "late_pumps": 1, "slow_blocks": 0, "offcpu_blocks": 0,
            "server_xruns": 0, "callback_max_us": 9000.0, "callback_p999_us": 80.0,
            "callback_count": 2000}  # fmt: skip
    clean = _Log(0)
    with pytest.raises(AssertionError):
        assert_engine_healthy(base, clean, stalled=False)  # type: ignore[arg-type]
    assert_engine_healthy(since_baseline(base, base), clean, stalled=False)  # type: ignore[arg-type]
    window = since_baseline({**base, "callback_count": 3000}, base)
    assert (window["dry_callbacks"], window["late_pumps"], window["callback_max_us"]) == (0, 0, 0)
    for later in ({"dry_callbacks": 9}, {"late_pumps": 2}, {"callback_max_us": 9100.0}):
        with pytest.raises(AssertionError):
            assert_engine_healthy(since_baseline({**base, **later}, base), clean, stalled=False)  # type: ignore[arg-type]
