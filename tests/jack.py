"""A JACK server on the dummy backend, owned by a test fixture, and what its log says.

JACK's dummy driver on these VMs overruns on its own (``JackTimedDriver::Process
XRun``, with no client at all), so a test never asserts that the server never
overran. The log names the clients it found not finished at a cycle's
deadline (``JackEngine::XRun: client = NAME was not finished, state =
Running`` or ``Triggered``); ``late_clients`` reads them for benchmarks and
for the test that a slow client shows up. The live tests do not assert on
them: a stall of the whole VM reports every client, so bassd's health is its
own figures (see ``tests/health.py``).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

_LATE = re.compile(r"client = (.+?) was not finished, state = (\w+)")


def steal_ticks() -> list[int]:
    """Each vCPU's steal time from /proc/stat (USER_HZ ticks: the hypervisor ran something
    else while the vCPU had work); empty where the kernel does not say."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return []
    return [int(f[8]) for f in (ln.split() for ln in lines)
            if f[0].startswith("cpu") and f[0] != "cpu" and len(f) > 8]  # fmt: skip


class JackServer:
    def __init__(self, name: str, rate: int = 48000, period: int = 256) -> None:
        self.name = name
        self.rate = rate
        self.period = period
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.gettempdir()) / f"jackd-{name}.log"
        self._steal_at: dict[int, list[int]] = {}  # log mark -> each CPU's steal ticks then

    # ------------------------------------------------------------- the log
    def log_text(self, since: int = 0) -> str:
        """What jackd has printed (from byte offset ``since``)."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def mark(self) -> int:
        """A position in the log: pass it to the queries below to see only what follows."""
        try:
            at = self.log_path.stat().st_size
        except FileNotFoundError:
            at = 0
        self._steal_at.setdefault(at, steal_ticks())
        return at

    def stolen_ticks(self, since: int = 0) -> int:
        """The most time (in 10 ms ticks) the hypervisor took from any one vCPU since the
        mark ``since`` (or the earliest mark before it: the server's start)."""
        earlier = [m for m in self._steal_at if m <= since] or list(self._steal_at)
        if not earlier:
            return 0
        then, now = self._steal_at[max(earlier)], steal_ticks()
        return max((b - a for a, b in zip(then, now, strict=False)), default=0)

    def xruns(self, since: int = 0) -> int:
        """Server xruns logged (the driver's own overruns and late clients alike)."""
        return self.log_text(since).count("XRun")

    def driver_stalls(self, since: int = 0) -> int:
        """The driver's own overruns (``JackTimedDriver::Process XRun``): the dummy driver
        itself woke late, which on these VMs means the whole machine stalled."""
        return self.log_text(since).count("JackTimedDriver::Process XRun")

    def late_clients(self, since: int = 0, state: str = "Running") -> list[str]:
        """Names of the clients the server found not finished at a cycle's deadline in
        ``state`` (Running: the callback ran too long; Triggered: it never got to run)."""
        return [name for name, st in _LATE.findall(self.log_text(since)) if st == state]

    def start(self, timeout: float = 10.0) -> None:
        # -R: real-time scheduling (allowed as root here); it is what keeps the
        # process thread on time while other processes load the cores.
        realtime = ["-R", "-P", "70"] if os.geteuid() == 0 else []
        self._log = self.log_path.open("ab")  # a restart appends
        self.mark()  # the steal clock from here on
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
            stdout=self._log,
            stderr=subprocess.STDOUT,
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
        with contextlib.suppress(Exception):
            self._log.close()
        # a killed server leaves its clients' semaphores behind
        import glob

        for path in glob.glob(f"/dev/shm/jack_sem.*_{self.name}_*"):
            with contextlib.suppress(OSError):
                os.unlink(path)


def _has(cmd: str) -> bool:
    from shutil import which

    return which(cmd) is not None
