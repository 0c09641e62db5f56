"""Start-up of ``bassd run``: import cost, and spawn → stream started, on a JACK server.

Nothing is added to the product for this: the daemon's own JSON log lines on
stderr are read. ``daemon_started`` is logged once the ring has been filled
with audio and the device process reports the stream open, so spawn →
``daemon_started`` is an upper-ish bound of the time to the first audible
block. The ``daemon_stopped`` line (after SIGINT) carries the status, whose
``frames_out`` confirms that the device really played.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: what ``bassd run`` imports before it opens the device (cli.cmd_run's imports)
RUN_IMPORTS = (
    "bassd.cli",
    "bassd.app.config",
    "bassd.app.daemon",
    "bassd.engine.segment_log",
    "bassd.app.logging_setup",
)
#: third-party packages whose import cost is measured one by one (on top of numpy)
PACKAGES = (
    "scipy.signal",
    "pyloudnorm",
    "pydantic",
    "sounddevice",
    "structlog",
    "yaml",
    "uvloop",
    "pythonosc.osc_message",
    "cffi",
)


def _python() -> str:
    return sys.executable


def time_import(modules: Sequence[str], repeats: int = 3, stub: Sequence[str] = ()) -> float:
    """Best wall time of a fresh interpreter importing ``modules``, minus a bare start.

    ``stub``: modules replaced by empty ones first, to see what the import would
    cost if the product loaded them lazily (a what-if; nothing is run).
    """

    def once(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([_python(), "-c", code], check=True, capture_output=True)
        return time.perf_counter() - t0

    bare = min(once("pass") for _ in range(repeats))
    prelude = "".join(f"sys.modules[{m!r}] = types.ModuleType({m!r}); " for m in stub)
    code = f"import sys, types; {prelude}import " + ", ".join(modules)
    full = min(once(code) for _ in range(repeats))
    return full - bare


def package_costs(repeats: int = 3) -> dict[str, float | None]:
    """Import time of each package in a fresh interpreter, after numpy is loaded."""
    code = (
        "import sys, time; import numpy; t = time.perf_counter(); "
        "__import__(sys.argv[1]); print(time.perf_counter() - t)"
    )
    out: dict[str, float | None] = {}
    for pkg in PACKAGES:
        runs = []
        for _ in range(repeats):
            proc = subprocess.run(
                [_python(), "-c", code, pkg], capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                break
            runs.append(float(proc.stdout.strip()))
        out[pkg] = min(runs) if runs else None
    return out


_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def bassd_import_tree(modules: Sequence[str] = RUN_IMPORTS) -> list[dict[str, Any]]:
    """``-X importtime`` of the run imports: each bassd module's cumulative cost and
    its heaviest direct non-bassd import."""
    proc = subprocess.run(
        [_python(), "-X", "importtime", "-c", "import " + ", ".join(modules)],
        capture_output=True,
        text=True,
        check=True,
    )
    entries = []  # (depth, name, cumulative µs), in the order printed (children first)
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            entries.append((len(m.group(3)) // 2, m.group(4), int(m.group(2))))
    rows = []
    for i, (depth, name, cum) in enumerate(entries):
        if not name.startswith("bassd."):
            continue
        heaviest, heaviest_us = None, 0
        for d, child, c in reversed(entries[:i]):  # children precede their parent
            if d <= depth:
                break
            if d == depth + 1 and not child.startswith("bassd.") and c > heaviest_us:
                heaviest, heaviest_us = child, c
        if heaviest is not None:  # scipy.signal shows up as its private submodules
            heaviest = heaviest.split("._")[0]
        rows.append(
            {
                "module": name,
                "cumulative_s": cum / 1e6,
                "heaviest_external": heaviest,
                "heaviest_external_s": heaviest_us / 1e6,
            }
        )
    rows.sort(key=lambda r: -r["cumulative_s"])
    return rows


# ------------------------------------------------------------------- JACK + daemon
def jack_server_running(name: str) -> bool:
    if shutil.which("jack_lsp") is None:
        return False
    proc = subprocess.run(
        ["jack_lsp", "-s", name],
        capture_output=True,
        text=True,
        env=dict(os.environ, JACK_NO_START_SERVER="1"),
        timeout=10,
        check=False,
    )
    return proc.returncode == 0 and "system:playback" in proc.stdout


@dataclass
class JackServer:
    """The JACK server to use: an existing one, or a dummy one started (and stopped) here."""

    name: str
    proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def find_or_start(cls, preferred: Sequence[str]) -> JackServer | None:
        for name in preferred:
            if name and jack_server_running(name):
                return cls(name)
        if shutil.which("jackd") is None:
            return None
        name = "bench_start"
        cmd = ["jackd", "-n", name, "-R", "-P", "70", "-d", "dummy", "-r", "48000", "-p", "256"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if jack_server_running(name):
                return cls(name, proc)
            time.sleep(0.2)
        proc.terminate()
        proc.wait(5)
        return None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class DaemonStart:
    to_event_loop_s: float | None = None  # spawn → first log line (imports + config done)
    to_started_s: float | None = None  # spawn → daemon_started
    stop_s: float | None = None  # SIGINT → exit
    exit_code: int | None = None
    frames_out: int | None = None
    underruns: int | None = None
    device: str | None = None
    error: str | None = None
    stderr_tail: list[str] = field(default_factory=list)


def _bassd_exe() -> list[str]:
    exe = Path(_python()).with_name("bassd")
    return [str(exe)] if exe.exists() else [_python(), "-m", "bassd"]


def start_daemon_once(jack: str, play_seconds: float = 1.0, timeout: float = 30.0) -> DaemonStart:
    """Spawn ``bassd run``, time it to ``daemon_started``, play a little, SIGINT it."""
    res = DaemonStart()
    started = threading.Event()
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench_start_") as cwd:
        env = dict(os.environ, JACK_DEFAULT_SERVER=jack, PYTHONUNBUFFERED="1")
        cmd = [*_bassd_exe(), "run", "--set", "osc.port=0", "--set", "logging.format=json"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

        def reader() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                now = time.perf_counter() - t0
                lines.append(line.rstrip())
                try:
                    ev = json.loads(line)
                except json.JSONDecodeError:
                    continue
                name = ev.get("event")
                if res.to_event_loop_s is None:
                    res.to_event_loop_s = now
                if name == "daemon_started":
                    res.to_started_s = now
                    res.device = ev.get("device")
                    started.set()
                elif name == "daemon_stopped":
                    status = ev.get("status", {})
                    res.frames_out = status.get("frames_out")
                    res.underruns = status.get("dry_callbacks")
            started.set()  # stderr closed: the process ended

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        started.wait(timeout)
        if res.to_started_s is None:
            res.error = "no daemon_started line" + (
                f" (exited {proc.poll()})" if proc.poll() is not None else " (timed out)"
            )
        else:
            time.sleep(play_seconds)
        if proc.poll() is None:
            t_int = time.perf_counter()
            proc.send_signal(signal.SIGINT)
            try:
                res.exit_code = proc.wait(15)
                res.stop_s = time.perf_counter() - t_int
            except subprocess.TimeoutExpired:
                proc.kill()
                res.exit_code = proc.wait(5)
                res.error = (res.error or "") + " did not exit within 15 s of SIGINT"
        else:
            res.exit_code = proc.returncode
        thread.join(5)
    res.stderr_tail = lines[-5:] if res.error else []
    return res


def summarise(runs: Sequence[DaemonStart]) -> dict[str, Any]:
    ok = [r.to_started_s for r in runs if r.to_started_s is not None]
    loop = [r.to_event_loop_s for r in runs if r.to_event_loop_s is not None]
    return {
        "runs": len(runs),
        "started_min_s": min(ok) if ok else None,
        "started_median_s": statistics.median(ok) if ok else None,
        "event_loop_median_s": statistics.median(loop) if loop else None,
        "all_exit_0": all(r.exit_code == 0 for r in runs),
        "all_played": all((r.frames_out or 0) > 0 for r in runs),
    }
