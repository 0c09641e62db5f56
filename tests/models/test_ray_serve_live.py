"""The render service for real: a Ray head on this machine (``ray start --head``), the tiny
MusicGen deployed by ``bassd serve start``, daemons on the JACK dummy device with
``musicgen.backend: ray``. Two daemons share the deployment; a replica killed mid-clip
and a cluster stopped and started again cost neither daemon a gap."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.daemon import DaemonProcess
from tests.health import assert_engine_healthy, since_baseline
from tests.jack import JackServer
from tests.models.test_neural_live import neural_rows  # the neural renderer's own rows
from tests.osc_client import free_udp_port, query_status, wait_status
from tests.ray_cluster import RayHead

pytest.importorskip("ray.serve")
pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


def ray_args(address: str, *extra: str) -> list[str]:
    sets = [
        "renderer.name=musicgen",
        "musicgen.backend=ray",
        f"musicgen.ray_address={address}",
        "musicgen.min_clip_seconds=3",
        "musicgen.restart_backoff_seconds=0.2",
        "musicgen.max_backoff_seconds=2",
        "musicgen.stall_seconds=3",
        "musicgen.ray_connect_seconds=20",
        "musicgen.load_seconds=60",
        "timeline.segment_seconds=3",
        "timeline.crossfade_seconds=0.5",
        *extra,
    ]
    return [x for s in sets for x in ("--set", s)]


@pytest.fixture(scope="module")
def ray_head(tiny_model_dir: Path) -> Iterator[RayHead]:
    """A head with the tiny model deployed (one replica, one torch thread)."""
    head = RayHead(free_udp_port())
    head.start()
    try:
        done = head.bassd("serve", "start", "--model", str(tiny_model_dir), "--threads", "1")
        assert done.returncode == 0, done.stderr[-3000:]
        assert "deployed bassd-musicgen" in done.stdout
        yield head
    finally:
        head.cleanup()
    assert head.replica_pids() == [], "a replica outlived ray stop"


@pytest.fixture
def two_daemons(tmp_path: Path, jack_server: JackServer, ray_head: RayHead) -> Iterator[Any]:
    """Factory: daemons of their own folders on the session's JACK server, stopped after."""
    started: list[DaemonProcess] = []

    def start(*extra: str) -> list[DaemonProcess]:
        for name in ("room-a", "room-b"):
            folder = tmp_path / name
            folder.mkdir()
            d = DaemonProcess(folder, jack_server, free_udp_port(), free_udp_port(),
                              ray_args(ray_head.address, *extra))  # fmt: skip
            started.append(d)
        for d in started:
            d.wait_for_log("osc_listening")
        return started

    yield start
    for d in started:
        d.stop()


def test_serve_status_names_the_running_deployment(ray_head: RayHead) -> None:
    """``bassd serve status`` reports the application and its replica as running."""
    done = ray_head.bassd("serve", "status")
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["application"] == "bassd-musicgen" and "RUNNING" in out["status"]
    assert out["deployments"]["musicgen"]["replicas"].get("RUNNING") == 1


def test_two_daemons_play_clips_from_one_deployment(
    two_daemons: Any, jack_server: JackServer, ray_head: RayHead
) -> None:
    """Two daemons with backend ray both play the deployment's clips (metrics rows of the
    neural renderer, not the DSP bed), /status says where clips are made, neither runs dry,
    and their exits leave nothing in /dev/shm."""
    mark = jack_server.mark()
    daemons = two_daemons()
    for d in daemons:
        st = wait_status(d, lambda s: s["neural_clips"] >= 2, timeout=120)
        assert st["neural_backend"] == "ray"
        ready = [e for e in d.events() if e["event"] == "neural_worker_ready"]
        assert ready and ready[-1]["device"] == "ray:cpu"  # the replica's device, remote
        wait_status(d, lambda s, d=d: len(neural_rows(d)) >= 1, timeout=30)
    for d in daemons:
        st = query_status(d.osc_port, d.reply_port)
        assert_engine_healthy(st, jack_server, mark)
        assert d.stop() == 0
        assert d.shm_blocks() == []


class Hurt(NamedTuple):
    daemons: list[DaemonProcess]
    replica: int  # the one replica's pid
    start: Any  # the sound server's log mark at the daemons' start
    mark: Any  # ... and just before the fault
    before: list[dict[str, Any]]  # each daemon's /status just before the fault


def _busy_on_the_replica(two_daemons: Any, jack_server: JackServer, ray_head: RayHead) -> Hurt:
    """Two daemons (the stall check out of reach) that have each had a clip, the first
    rendering one now: the moment to hurt the one replica."""
    start = jack_server.mark()
    daemons = two_daemons("musicgen.stall_seconds=600")
    for d in daemons:
        wait_status(d, lambda s: s["neural_clips"] >= 1, timeout=120)
    wait_status(daemons[0], lambda s: s["neural_state"] == "generating", timeout=30)
    mark = jack_server.mark()
    before = [query_status(d.osc_port, d.reply_port) for d in daemons]
    (replica,) = ray_head.replica_pids()
    return Hurt(daemons, replica, start, mark, before)


def _assert_the_bed_covered_it(hurt: Hurt, jack_server: JackServer) -> None:
    """Each daemon played the DSP bed for a segment, without a dry callback since the fault
    nor in the whole run."""
    for d, st0 in zip(hurt.daemons, hurt.before, strict=True):
        st = query_status(d.osc_port, d.reply_port)
        assert st["fallbacks"] >= 1
        assert_engine_healthy(since_baseline(st, st0), jack_server, hurt.mark)
        assert_engine_healthy(st, jack_server, hurt.start)


def _silent_replica(e: dict[str, Any]) -> bool:
    """A clip failed because its replica fell silent (ReplicaLost)."""
    error = str(e.get("error"))
    return "ReplicaLost" in error and "no word from the replica" in error


def _clips_after(d: DaemonProcess, *events: str, match: Any = None, timeout: float = 90) -> int:
    """Wait until ``d`` logs one of ``events`` (that ``match`` accepts); its clip count then."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(e["event"] in events and (match is None or match(e)) for e in d.events()):
            return int(query_status(d.osc_port, d.reply_port)["neural_clips"])
        time.sleep(0.2)
    raise AssertionError(f"no {events} in {timeout:g} s: the lost clip was not recorded")


def test_a_replica_killed_mid_clip_costs_neither_daemon_a_gap(
    two_daemons: Any, jack_server: JackServer, ray_head: RayHead
) -> None:
    """SIGKILL of the replica while both daemons use it (the stall check out of reach): each
    daemon's clip fails (Ray's error, or no word for ``ray_lost_seconds``) or, asked while
    no replica ran, is dropped at its deadline; its segment plays the DSP bed (no dry
    callback), Serve starts a new replica, and both daemons play its clips afterwards."""
    hurt = _busy_on_the_replica(two_daemons, jack_server, ray_head)
    daemons, replica = hurt.daemons, hurt.replica
    os.kill(replica, signal.SIGKILL)
    for d in daemons:
        # failed (it was the replica's when it died), or dropped at its deadline (it waited
        # for a replica while Serve started the new one)
        n = _clips_after(d, "neural_clip_failed", "neural_clip_late", "neural_worker_failed")
        wait_status(d, lambda s, n=n: s["neural_clips"] > n, timeout=180)  # the new replica's
    new = ray_head.replica_pids()
    assert new and replica not in new
    _assert_the_bed_covered_it(hurt, jack_server)


def test_a_hung_replica_is_heard_as_silence_and_costs_neither_daemon_a_gap(
    two_daemons: Any, jack_server: JackServer, ray_head: RayHead
) -> None:
    """SIGSTOP of the replica while both daemons wait on it (a hung process: Ray raises
    nothing, its keepalives stop): after ``ray_lost_seconds`` (the default; the stall check
    out of reach) each daemon fails the clip with ReplicaLost and plays the DSP bed (no dry
    callback); once the replica runs again (SIGCONT) both play its clips."""
    hurt = _busy_on_the_replica(two_daemons, jack_server, ray_head)
    daemons, replica = hurt.daemons, hurt.replica
    os.kill(replica, signal.SIGSTOP)
    try:
        clips = [_clips_after(d, "neural_clip_failed", match=_silent_replica) for d in daemons]
    finally:
        os.kill(replica, signal.SIGCONT)
    for d, n in zip(daemons, clips, strict=True):  # a clip made after the loss
        wait_status(d, lambda s, n=n: s["neural_clips"] > n, timeout=180)
    _assert_the_bed_covered_it(hurt, jack_server)


def test_the_cluster_stopped_and_started_again(
    two_daemons: Any, jack_server: JackServer, ray_head: RayHead, tiny_model_dir: Path
) -> None:
    """``ray stop``: both daemons go on with the DSP bed (the worker fails, is restarted with
    backoff and cannot connect: counted, never a gap); a new head and deployment at the same
    address: both daemons reconnect and play its clips again."""
    start = jack_server.mark()
    daemons = two_daemons()
    for d in daemons:
        wait_status(d, lambda s: s["neural_clips"] >= 1, timeout=120)
    mark = jack_server.mark()
    before = [query_status(d.osc_port, d.reply_port) for d in daemons]
    ray_head.stop()
    down = [query_status(d.osc_port, d.reply_port) for d in daemons]
    for d, st0 in zip(daemons, down, strict=True):
        wait_status(d, lambda s, r=st0["neural_restarts"]: s["neural_restarts"] >= r + 1,
                    timeout=90)  # fmt: skip
    time.sleep(3.0)  # the bed plays while the cluster is gone
    for d, st0 in zip(daemons, before, strict=True):
        st = query_status(d.osc_port, d.reply_port)
        assert st["neural_state"] != "ready" or st["neural_restarts"] >= 1
        assert_engine_healthy(since_baseline(st, st0), jack_server, mark)
    ray_head.start()
    done = ray_head.bassd("serve", "start", "--model", str(tiny_model_dir), "--threads", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    back = [query_status(d.osc_port, d.reply_port)["session_t"] for d in daemons]
    for d, t in zip(daemons, back, strict=True):
        wait_status(d, lambda s, d=d, t=t: len(neural_rows(d, t)) >= 1, timeout=180)
    for d, st0 in zip(daemons, before, strict=True):
        st = query_status(d.osc_port, d.reply_port)
        assert_engine_healthy(since_baseline(st, st0), jack_server, mark)
        assert_engine_healthy(st, jack_server, start)
        reasons = [e["reason"] for e in d.events() if e["event"] == "neural_worker_failed"]
        assert reasons, "the lost cluster was not recorded"


LOAD_CLIENT = """
import os, sys
from bassd.models.ray_client import RemoteMusicGen
mg = RemoteMusicGen(sys.argv[1], sys.argv[2])
i = 0
while not os.path.exists(sys.argv[3]):  # clip after clip: always a request in the queue
    frames = sum(len(chunk) for chunk in mg.stream("calm ambient pads", 8.0, seed=i))
    print("clip", i, frames / mg.sample_rate, flush=True)
    i += 1
"""


def test_an_autoscaled_deployment_grows_with_its_queue(
    ray_head: RayHead, tiny_model_dir: Path, tmp_path: Path
) -> None:
    """``serve start --replicas 1 --max-replicas 2``: one replica while idle; three clients
    streaming clips back to back keep more requests waiting than one replica takes, and
    Serve starts the second; every client's clips arrive whole."""
    app = "bassd-auto"
    done = ray_head.bassd("serve", "start", "--model", str(tiny_model_dir), "--threads", "1",
                          "--replicas", "1", "--max-replicas", "2", "--cpus-per-replica",
                          "0.5", "--name", app)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "autoscal" in done.stdout

    def running() -> int:
        st = ray_head.bassd("serve", "status", "--name", app)
        assert st.returncode == 0, st.stderr[-2000:]
        return int(json.loads(st.stdout)["deployments"]["musicgen"]["replicas"].get("RUNNING", 0))

    clients: list[subprocess.Popen[str]] = []
    stop = tmp_path / "stop"
    try:
        assert running() == 1
        clients = [subprocess.Popen([sys.executable, "-c", LOAD_CLIENT, ray_head.address, app,
                                     str(stop)], env=ray_head.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
                   for _ in range(3)]  # fmt: skip
        end, grew = time.monotonic() + 90, False
        while not grew and time.monotonic() < end:
            time.sleep(2.0)
            grew = running() == 2
        assert grew, "the queue of three clients did not start a second replica"
    finally:
        stop.touch()  # each client ends after the clip it is on
        outs = [c.communicate(timeout=120)[0] for c in clients]
        ray_head.bassd("serve", "stop", "--name", app)
    assert [c.returncode for c in clients] == [0, 0, 0], outs
    for out in outs:
        clips = [line.split() for line in out.splitlines() if line.startswith("clip ")]
        assert clips and all(float(c[2]) >= 7.9 for c in clips), out[-2000:]
