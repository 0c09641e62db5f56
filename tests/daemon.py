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
    """``bassd run`` (or another ``command`` that runs the daemon) as a real subprocess with
    its own ports and working directory."""

    def __init__(
        self,
        workdir: Path,
        jack: JackServer,
        osc_port: int,
        reply_port: int,
        extra: list[str],
        *,
        own_group: bool = False,
        command: tuple[str, ...] = ("run",),
    ):
        self.workdir = workdir
        self.osc_port = osc_port
        self.reply_port = reply_port
        env = dict(os.environ, JACK_DEFAULT_SERVER=jack.name, PYTHONUNBUFFERED="1")
        args = [
            sys.executable,
            "-m",
            "bassd",
            *command,  # bassd run, or e.g. bassd session run PROTOCOL
            "--set",
            f"osc.port={osc_port}",
            "--set",
            f"osc.reply_port={reply_port}",
            "--set",
            "logging.format=json",
            # the search model's background load (a worker importing torch for seconds) only
            # where a test asks for it: it would compete for the two cores with the music
            *(
                []
                if any(e.startswith("search.") for e in extra)
                else ["--set", "search.preload=false"]
            ),
            # OSCQuery on a free port of its own (tests run many daemons), no mDNS unless a
            # test asks for it
            *(
                []
                if any(e.startswith("osc.oscquery") for e in extra)
                else ["--set", "osc.oscquery_port=0", "--set", "osc.oscquery_mdns=false"]
            ),
            # BASSD_TEST_STALL_DUMP_MS=15: a stalled loop's stacks in daemon.log (diagnosis)
            *(
                ["--set", f"debug.stall_dump_ms={os.environ['BASSD_TEST_STALL_DUMP_MS']}"]
                if os.environ.get("BASSD_TEST_STALL_DUMP_MS")
                else []
            ),
            *extra,
        ]
        self.log_path = workdir / "daemon.log"
        self._log = self.log_path.open("wb")
        # own_group: a process group of its own, as a terminal or systemd gives it, so a
        # test can signal the whole group (the daemon and every process it started)
        self.proc = subprocess.Popen(
            args,
            cwd=workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
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

    def children(self) -> list[tuple[int, str]]:
        """(pid, command line) of the daemon's child processes."""
        out = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                stat = (proc / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid:
                out.append((int(proc.name), cmd))
        return out

    def shm_blocks(self) -> list[str]:
        """The shared-memory blocks this daemon owns (named bassd_<pid>_...)."""
        return sorted(p.name for p in Path("/dev/shm").glob(f"bassd_{self.proc.pid}_*"))

    def semaphores(self) -> list[str]:
        """multiprocessing's semaphores this daemon made (sem.bassd_<pid>_sem-...)."""
        from bassd.engine.shm_names import semaphore_prefix

        name = "sem." + semaphore_prefix(self.proc.pid).lstrip("/")
        return sorted(p.name for p in Path("/dev/shm").glob(f"{name}-*"))

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


TAG_VARIABLE = "BASSD_TEST_TAG"  # children inherit the environment, wherever they are reparented


def tagged_processes(tag: str) -> list[int]:
    """The live processes whose environment holds ``BASSD_TEST_TAG=tag`` (what a process started
    with that tag started in turn, even after its parent died)."""
    needle = f"{TAG_VARIABLE}={tag}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            env = (proc / "environ").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in env and state != "Z":  # a zombie has exited: only its entry is left
            found.append(int(proc.name))
    return found
