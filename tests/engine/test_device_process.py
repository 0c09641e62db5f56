"""The daemon's handle of the device process (engine/device_process.py), on real JACK servers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bassd.engine.device import DeviceError
from bassd.engine.device_process import DeviceProcess
from bassd.engine.player import SharedPlayer
from bassd.engine.ring import SharedRing

JACK = "JACK Audio Connection Kit"


@pytest.fixture
def shared() -> Iterator[tuple[SharedRing, SharedPlayer]]:
    ring, player = SharedRing(8192, 2), SharedPlayer()
    yield ring, player
    ring.close()
    player.close()


def _device(ring: SharedRing, player: SharedPlayer) -> DeviceProcess:
    return DeviceProcess(
        ring, player, sample_rate=48000, block_size=256, fade_frames=64, device=None
    )


@pytest.mark.live
def test_reopen_waits_for_the_remembered_device(
    private_jack_server, shared, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After JACK was opened, a respawn with JACK gone fails naming that device (no other host
    API), and opens JACK's output again once the server is back."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", private_jack_server.name)
    dev = _device(*shared)

    async def run() -> tuple[dict[str, object], str, dict[str, object]]:
        first = await dev.start()
        assert dev.remembered == ("system", JACK)
        private_jack_server.stop()
        dev.kill()
        await dev.stop(timeout=1.0)
        with pytest.raises(DeviceError) as err:
            await dev.start()
        private_jack_server.start()
        again = await dev.start()
        await dev.stop()
        return first, str(err.value), again

    try:
        first, error, again = asyncio.run(run())
    finally:
        dev.kill()
    assert (first["device"], first["hostapi"]) == ("system", JACK)
    assert error.startswith(f"audio device 'system' ({JACK}), the one opened before, is not")
    assert (again["device"], again["hostapi"]) == ("system", JACK)


def test_stderr_of_the_device_process_is_logged(shared) -> None:
    """What the device process writes to stderr (here a traceback) is logged as device_stderr."""
    ring, player = shared
    ring.close()  # unlinked: the device process cannot attach, and says why on stderr
    dev = _device(ring, player)

    with capture_logs() as logs:
        with pytest.raises(DeviceError, match=r"the device process exited \(1\) before opening"):
            asyncio.run(dev.open(timeout=30))
        assert dev.stderr_thread is not None
        dev.stderr_thread.join(10)
    lines = [e for e in logs if e["event"] == "device_stderr"]
    assert lines and all(e["pid"] > 0 for e in lines)
    ours = [e for e in lines if not e["line"].startswith("ALSA lib ")]
    assert all(e["log_level"] == "info" for e in ours)
    texts = [e["line"] for e in ours]  # libjack's own lines come first without a server
    assert "Traceback (most recent call last):" in texts
    assert texts[-1].startswith("FileNotFoundError:")
    alsa = [e for e in lines if e["line"].startswith("ALSA lib ")]
    assert all(e["log_level"] == "debug" for e in alsa[1:])  # probing noise after the first


def test_alsa_probing_noise_goes_to_debug_after_its_first_line() -> None:
    """ALSA's ~60 probing lines per PortAudio start: the first at info, the rest at debug;
    anything else the process writes stays at info."""
    import io

    from bassd.engine.device_process import forward_stderr

    text = b"ALSA lib a\nALSA lib b\nALSA lib c\nsegfault here\n"
    with capture_logs() as logs:
        forward_stderr(io.BytesIO(text), 123)
    assert [(e["log_level"], e["line"]) for e in logs] == [
        ("info", "ALSA lib a"), ("debug", "ALSA lib b"), ("debug", "ALSA lib c"),
        ("info", "segfault here"),
    ]  # fmt: skip


@pytest.mark.live
def test_current_directory_cannot_shadow_the_package(
    jack_server, shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `bassd` folder in the working directory is not what the device process imports."""
    (tmp_path / "bassd").mkdir()
    (tmp_path / "bassd" / "__init__.py").write_text('raise SystemExit("the shadow was imported")')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JACK_DEFAULT_SERVER", jack_server.name)
    dev = _device(*shared)

    async def run() -> tuple[dict[str, object], int | None]:
        return await dev.start(), await dev.stop()

    try:
        opened, code = asyncio.run(run())
    finally:
        dev.kill()
    assert opened["event"] == "opened" and code == 0
