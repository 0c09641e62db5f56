"""The master post-FX on the live daemon: an /fx/hpf change from an independent client is
applied by the audio callback (or, with audio.fx_in_callback false, by the engine)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.health import assert_engine_healthy
from tests.jack_capture import Capture
from tests.osc_client import oscsend, query_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]
SR = 48_000


def _low_power_db(x: np.ndarray) -> float:
    """Power below 400 Hz (dB, Hann-windowed 4096-frame segments averaged)."""
    n = 4096
    segs = [x[i : i + n] * np.hanning(n) for i in range(0, len(x) - n, n // 2)]
    power = np.mean([np.abs(np.fft.rfft(s)) ** 2 for s in segs], axis=0)
    freqs = np.fft.rfftfreq(n, 1 / SR)
    return float(10 * np.log10(power[freqs < 400].sum() + 1e-30))


@pytest.mark.parametrize("in_callback", [True, False])
def test_highpass_from_oscsend_thins_what_the_device_plays(
    jack_server, start_daemon, in_callback: bool
) -> None:
    """/fx/hpf 1500 from oscsend: the recorded output loses its lows (> 30 dB less power below
    400 Hz); /status says which path ran it and, in the callback, when the callback applied
    it; the engine never ran dry."""
    d = start_daemon(jack_server, "--set", f"audio.fx_in_callback={str(in_callback).lower()}")
    mark = jack_server.mark()
    cap = Capture(jack_server.name)
    try:
        time.sleep(1.0)
        cap.take()
        time.sleep(0.5)
        before = cap.take()
        oscsend(d.osc_port, "/fx/hpf", "f", 1500.0)
        time.sleep(0.4)  # the 20 ms glide and the ring (engine path) are long over
        cap.take()
        time.sleep(0.5)
        after = cap.take()
    finally:
        cap.close()
    st = query_status(d.osc_port, d.reply_port)
    assert _low_power_db(before) - _low_power_db(after) > 30
    assert st["fx"]["hpf_hz"] == 1500.0 and st["fx_in_callback"] is in_callback
    if in_callback:
        assert st["fx_latency_ms"] is not None and st["fx_latency_ms"] > 0
    else:
        assert st["fx_latency_ms"] is None
    assert_engine_healthy(st, jack_server, mark)
