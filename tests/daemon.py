"""``bassd run`` as a real subprocess, for the live tests and the benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.jack import JackServer


class DaemonProcess:
    """``bassd run`` as a real subprocess with its own ports and working directory."""

    def __init__(
        self, workdir: Path, jack: JackServer, osc_port: int, reply_port: int, extra: list[str]
    ):
        self.workdir = workdir
        self.osc_port = osc_port
        self.reply_port = reply_port
        env = dict(os.environ, JACK_DEFAULT_SERVER=jack.name, PYTHONUNBUFFERED="1")
        args = [
            sys.executable,
            "-m",
            "bassd",
            "run",
            "--set",
            f"osc.port={osc_port}",
            "--set",
            f"osc.reply_port={reply_port}",
            "--set",
            "logging.format=json",
            *extra,
        ]
        self.log_path = workdir / "daemon.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            args, cwd=workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_for_log(self, event: str, timeout: float = 15.0) -> dict:
        from tests.osc_client import read_events

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev in read_events(self.log_path):
                if ev.get("event") == event:
                    return ev
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"daemon exited {self.proc.returncode}: {self.log_path.read_text()[-3000:]}"
                )
            time.sleep(0.05)
        raise AssertionError(
            f"no {event!r} in the daemon log within {timeout} s: {self.log_path.read_text()[-3000:]}"
        )

    def events(self) -> list[dict]:
        from tests.osc_client import read_events

        return read_events(self.log_path)

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
