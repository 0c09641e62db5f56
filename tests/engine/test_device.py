"""Choosing the output device (engine/device.py), on fake lists and on a real JACK server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bassd.engine.device import DeviceError, OutputDevice, choose_output_device

JACK = "JACK Audio Connection Kit"
ALSA = "ALSA"

DEVICES = [
    OutputDevice(0, "HDA Intel PCH: ALC257 Analog (hw:0,0)", ALSA, 2),
    OutputDevice(1, "mono speaker", ALSA, 1),
    OutputDevice(2, "default", ALSA, 32),
    OutputDevice(3, "system", JACK, 2),
]


def test_name_is_a_case_insensitive_substring() -> None:
    """A configured name picks the first output whose name contains it, any case."""
    assert choose_output_device(DEVICES, 2, name="alc257").index == 0


def test_unknown_name_lists_the_available_outputs() -> None:
    """An unknown name is a DeviceError naming every usable output and how to pick one."""
    with pytest.raises(DeviceError) as err:
        choose_output_device(DEVICES, 2, name="NoSuchCard")
    msg = str(err.value)
    assert msg.startswith("audio device 'NoSuchCard' not found; available outputs: [0] HDA")
    assert "[3] system (JACK Audio Connection Kit, 2 ch)" in msg
    assert "--set audio.device=NAME" in msg


def test_outputs_with_too_few_channels_are_not_candidates() -> None:
    """A mono output is never chosen for a stereo stream, even by name."""
    with pytest.raises(DeviceError):
        choose_output_device(DEVICES, 2, name="mono")
    assert choose_output_device(DEVICES, 2, name="mono", channels=1).index == 1


def test_no_name_prefers_jack_over_the_default() -> None:
    """Without a name, a JACK output wins over PortAudio's default."""
    assert choose_output_device(DEVICES, 2, name=None).index == 3


def test_no_name_and_no_jack_takes_the_default_then_the_first() -> None:
    """Without JACK: PortAudio's default output, else the first usable one."""
    no_jack = DEVICES[:3]
    assert choose_output_device(no_jack, 2, name=None).index == 2
    assert choose_output_device(no_jack, None, name=None).index == 0


def test_no_device_at_all_says_how_to_get_one() -> None:
    """No output at all: one error suggesting a sound server or `bassd render`."""
    with pytest.raises(DeviceError, match=r"no audio output device found.*bassd render"):
        choose_output_device([], None, name=None)


def test_remembered_device_is_asked_for_exactly() -> None:
    """With a host API, only that exact name on that host API matches (no substring)."""
    devs = [OutputDevice(0, "system", ALSA, 2), OutputDevice(5, "system", JACK, 2), *DEVICES]
    assert choose_output_device(devs, 2, name="system", hostapi=JACK).index == 5
    assert choose_output_device(devs, 2, name="system", hostapi=ALSA).index == 0
    with pytest.raises(DeviceError):
        choose_output_device(devs, 2, name="syst", hostapi=JACK)


def test_remembered_device_gone_fails_instead_of_falling_back() -> None:
    """The remembered JACK output missing (server restarting): DeviceError, not ALSA's default."""
    without_jack = DEVICES[:3]
    with pytest.raises(DeviceError) as err:
        choose_output_device(without_jack, 2, name="system", hostapi=JACK)
    assert str(err.value).startswith(
        "audio device 'system' (JACK Audio Connection Kit), the one opened before, "
        "is not available now; available outputs: [0] HDA"
    )


@pytest.mark.live
def test_bassd_devices_lists_jack_output(jack_server) -> None:
    """`bassd devices` on a JACK dummy server lists its stereo output with the host API."""
    env = dict(os.environ, JACK_DEFAULT_SERVER=jack_server.name, JACK_NO_START_SERVER="1")
    r = subprocess.run(
        [sys.executable, "-P", "-m", "bassd", "devices"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(ln.endswith("] system  (JACK Audio Connection Kit, 2 out)") for ln in lines), lines
