"""The rule behind systemd's watchdog ping: the audio path is healthy between two samples."""

from __future__ import annotations

from dataclasses import replace

from bassd.app.audio_health import AudioSample, unhealthy_reason

BEFORE = AudioSample(stream="playing", callbacks=1000, dry_callbacks=0, write_pos=256_000,
                     pump_alive=True)  # fmt: skip
AFTER = replace(BEFORE, callbacks=1094, write_pos=280_064)  # half a second later


def test_callbacks_advancing_and_the_ring_filled_is_healthy() -> None:
    """Callbacks ran, the pump wrote, the stream plays, nothing dry: healthy."""
    assert unhealthy_reason(BEFORE, AFTER) is None


def test_no_callback_since_the_last_check_is_unhealthy() -> None:
    """A callback that no longer runs (stalled stream, vanished server) withholds the ping."""
    assert "no callback" in str(unhealthy_reason(BEFORE, replace(AFTER, callbacks=1000)))


def test_a_stream_not_playing_is_unhealthy() -> None:
    """While the supervisor reopens the device (or stops), no ping."""
    assert unhealthy_reason(BEFORE, replace(AFTER, stream="reopening")) == "stream reopening"


def test_a_dead_pump_is_unhealthy() -> None:
    """The pump task gone: unhealthy even if the callback still drains the ring."""
    assert "pump" in str(unhealthy_reason(BEFORE, replace(AFTER, pump_alive=False)))


def test_a_pump_that_wrote_nothing_is_unhealthy() -> None:
    """Callbacks ran but nothing was written to the ring: the pump is stuck."""
    assert "pump wrote nothing" in str(unhealthy_reason(BEFORE, replace(AFTER, write_pos=256_000)))


def test_a_starved_ring_is_unhealthy_but_one_glitch_is_not() -> None:
    """Half or more of the interval's callbacks dry: starved. One dry callback (a glitch,
    counted in /status) still pings."""
    assert unhealthy_reason(BEFORE, replace(AFTER, dry_callbacks=1)) is None
    assert "starved" in str(unhealthy_reason(BEFORE, replace(AFTER, dry_callbacks=47)))


def test_the_first_check_judges_the_present_only() -> None:
    """With no earlier sample: healthy once a callback has run and the stream plays."""
    assert unhealthy_reason(None, AFTER) is None
    assert unhealthy_reason(None, replace(AFTER, callbacks=0)) == "no callback yet"
