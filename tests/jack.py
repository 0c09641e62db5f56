"""A JACK server on the dummy backend, owned by a test fixture."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time


class JackServer:
    def __init__(self, name: str, rate: int = 48000, period: int = 256) -> None:
        self.name = name
        self.rate = rate
        self.period = period
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        # -R: real-time scheduling (allowed as root here); it is what keeps the
        # process thread on time while other processes load the cores.
        realtime = ["-R", "-P", "70"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen(
            [
                "jackd",
                "-n",
                self.name,
                *realtime,
                "-d",
                "dummy",
                "-r",
                str(self.rate),
                "-p",
                str(self.period),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        env = dict(os.environ, JACK_DEFAULT_SERVER=self.name, JACK_NO_START_SERVER="1")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jackd {self.name} exited with {self.proc.returncode}")
            probe = (
                subprocess.run(["jack_lsp"], env=env, capture_output=True, timeout=5)
                if _has("jack_lsp")
                else None
            )
            if probe is None or b"system:playback" in probe.stdout:
                if probe is None:
                    time.sleep(1.0)
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"jackd {self.name} did not come up in {timeout} s")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        # a killed server leaves its clients' semaphores behind
        import glob

        for path in glob.glob(f"/dev/shm/jack_sem.*_{self.name}_*"):
            with contextlib.suppress(OSError):
                os.unlink(path)


def _has(cmd: str) -> bool:
    from shutil import which

    return which(cmd) is not None
