"""A real Ray head on this machine for the render-service tests: started the way a user
starts one (``ray start --head``), stopped with ``ray stop``, nothing left behind.

The head, its raylet and the Serve replicas are daemons of Ray's own (``ray start``
detaches them), so the fixture that starts a head must stop it; ``stop`` waits until no
process of this head's temp folder is left. The replicas run the installed bassd (the
``ray`` console script next to this interpreter starts Ray with this environment).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPLICA_TITLE = "ray::ServeReplica:"  # the process title Ray gives a Serve replica


def _ray_bin() -> str:
    here = Path(sys.executable).with_name("ray")
    return str(here) if here.exists() else (shutil.which("ray") or "ray")


def _procs_with(needle: bytes) -> list[int]:
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle in (proc / "cmdline").read_bytes():
                out.append(int(proc.name))
        except OSError:
            continue
    return out


class RayHead:
    def __init__(self, port: int, num_cpus: int = 2) -> None:
        self.port = port
        self.num_cpus = num_cpus
        # short: Ray puts Unix sockets under it (108-byte path limit)
        self.temp_dir = Path("/tmp") / f"bray-{uuid.uuid4().hex[:6]}"
        self.env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONUNBUFFERED="1")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 240.0) -> None:
        cmd = [_ray_bin(), "start", "--head", "--port", str(self.port),
               "--node-ip-address", "127.0.0.1", "--num-cpus", str(self.num_cpus),
               "--include-dashboard=false", "--disable-usage-stats",
               "--temp-dir", str(self.temp_dir)]  # fmt: skip
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"ray start failed ({done.returncode}): {done.stderr[-2000:]}")

    def stop(self, timeout: float = 120.0) -> None:
        """``ray stop --force`` (every Ray process of this user: the tests' machine runs no
        other), then wait until none of this head's processes is left."""
        subprocess.run([_ray_bin(), "stop", "--force"], env=self.env, capture_output=True,
                       timeout=timeout)  # fmt: skip
        end = time.monotonic() + 30
        while _procs_with(str(self.temp_dir).encode()) and time.monotonic() < end:
            time.sleep(0.2)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def bassd(self, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        """``bassd ARGS --address`` this head, as a user runs it."""
        cmd = [sys.executable, "-m", "bassd.cli", *args, "--address", self.address]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)

    def replica_pids(self) -> list[int]:
        return _procs_with(REPLICA_TITLE.encode())
