"""Our PortAudio binding (engine/portaudio.py) against the real libportaudio2 and JACK.

PortAudio is initialised only in child processes: initialising opens a JACK
client, and a test process holding one across servers would abort when it
terminates PortAudio after its server is gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bassd.engine.portaudio import PortAudioError, error_text, load, version_text

#: run in a child: open a stream on JACK with the C callback, let it play, stop it
_PLAY = r"""
import json, sys, time
from bassd.engine._rtcore import ffi, lib
from bassd.engine.portaudio import PortAudio
from bassd.engine.ring import SharedRing

ring = SharedRing(8192, 2)
player = ffi.new("bassd_player *")
player.ring = ring.base
player.channels = 2
player.fade_frames = 64
out = {}
with PortAudio() as pa:
    apis = {h.index: h.name for h in pa.host_apis()}
    devs = [d for d in pa.devices() if "JACK" in apis[d.hostapi] and d.max_output_channels >= 2]
    dev = devs[0]
    out["device"] = [dev.name, apis[dev.hostapi], dev.max_output_channels]
    stream = pa.open_output(dev.index, channels=2, sample_rate=48000, block_size=256,
                            callback=ffi.addressof(lib, "bassd_callback"), userdata=player)
    out["before_start"] = int(player.callbacks)
    stream.start()
    time.sleep(0.5)
    out["latency"] = stream.output_latency
    stream.stop()
    out["at_stop"] = int(player.callbacks)
    time.sleep(0.2)
    out["after_stop"] = int(player.callbacks)
    out["frames_out"] = int(player.frames_out)
    stream.close()
    out["closed"] = stream.closed
    try:
        pa.open_output(dev.index, channels=64, sample_rate=48000, block_size=256,
                       callback=ffi.addressof(lib, "bassd_callback"), userdata=player)
    except Exception as exc:
        out["too_many_channels"] = f"{type(exc).__name__}: {exc}"
    try:
        pa.device(10_000)
    except Exception as exc:
        out["no_such_device"] = f"{type(exc).__name__}: {exc}"
ring.close()
print(json.dumps(out))
"""


def test_missing_library_is_one_line_saying_what_to_install() -> None:
    """A missing libportaudio gives one line naming the Debian package, not an OSError."""
    with pytest.raises(PortAudioError) as err:
        load("libportaudio-not-here.so.9")
    msg = str(err.value)
    assert "\n" not in msg
    assert "libportaudio-not-here.so.9 not found" in msg and "install libportaudio2" in msg


def test_error_and_version_texts_come_from_the_library() -> None:
    """Error codes read as PortAudio's own texts and the version is PortAudio's (no init)."""
    assert error_text(-9996) == "Invalid device"
    assert error_text(-9998) == "Invalid number of channels"
    assert version_text().startswith("PortAudio V19")


@pytest.mark.live
def test_c_callback_plays_on_jack_and_stops(jack_server) -> None:
    """On a JACK dummy server: a JACK output is listed, bassd_callback runs once per period
    while started, not after Pa_StopStream, and bad parameters are PortAudio's own errors."""
    env = dict(os.environ, JACK_DEFAULT_SERVER=jack_server.name, JACK_NO_START_SERVER="1")
    r = subprocess.run(
        [sys.executable, "-P", "-c", _PLAY], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["device"] == ["system", "JACK Audio Connection Kit", 2]
    assert out["before_start"] == 0
    assert out["at_stop"] > 20  # ~94 periods of 256 frames in 0.5 s
    assert out["after_stop"] == out["at_stop"]
    assert out["frames_out"] == out["at_stop"] * 256
    assert 0 < out["latency"] < 1.0
    assert out["closed"] is True
    assert out["too_many_channels"] == ("PortAudioError: Pa_OpenStream: Invalid number of channels")
    assert out["no_such_device"] == "PortAudioError: Pa_GetDeviceInfo: no device 10000"
