"""The render service's pure parts: deployment options, the replica's turn-taking,
deadlines and cancellation (a fake model), and the config keys that select it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np
import pytest

from bassd.app.config import ConfigError, load_config
from bassd.models.ray_serve import MusicGenReplica, deployment_options


def test_a_fixed_count_or_autoscaling_on_queue_length() -> None:
    """--replicas alone is a fixed count; --max-replicas above it autoscales between the two
    on waiting requests; GPUs and CPUs go to every replica's actor."""
    fixed = deployment_options(2, None, 1.0, 2.0)
    assert fixed["num_replicas"] == 2 and "autoscaling_config" not in fixed
    assert fixed["ray_actor_options"] == {"num_cpus": 2.0, "num_gpus": 1.0}
    auto = deployment_options(1, 4, 0.0, 1.0)
    assert "num_replicas" not in auto
    assert auto["autoscaling_config"]["min_replicas"] == 1
    assert auto["autoscaling_config"]["max_replicas"] == 4
    assert auto["autoscaling_config"]["target_ongoing_requests"] == 1


@pytest.mark.parametrize(("args", "match"), [((0, None, 0.0, 1.0), "--replicas"),
                                             ((3, 2, 0.0, 1.0), "--max-replicas"),
                                             ((1, None, -1.0, 1.0), "--gpus-per-replica")])  # fmt: skip
def test_bad_replica_settings_are_refused_by_name(args: tuple[Any, ...], match: str) -> None:
    """A replica count below one, a maximum below the minimum or negative GPUs: an error
    naming the flag."""
    with pytest.raises(ValueError, match=match):
        deployment_options(*args)


class FakeModel:
    """Yields ``n`` chunks, ``pause`` s apart, and records what it rendered."""

    def __init__(self, n: int = 3, pause: float = 0.02) -> None:
        self.n, self.pause = n, pause
        self.rendered: list[str] = []
        self.batches: list[list[str]] = []
        self.active = 0
        self.most_active = 0
        self.lock = threading.Lock()

    def stream(self, prompt: str, seconds: float, **kw: Any) -> Any:
        with self.lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            for i in range(self.n):
                time.sleep(self.pause)
                yield np.full((4, 1), i, np.float32)
                self.rendered.append(f"{prompt}:{i}")
            kw["stats"]["first_audio_s"] = 0.01
        finally:
            with self.lock:
                self.active -= 1

    def stream_batch(self, reqs: list[dict[str, Any]], **kw: Any) -> Any:
        """Each request's chunks in turn per step, as one batch (recorded as one entry)."""
        with self.lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        self.batches.append([r["prompt"] for r in reqs])
        try:
            for i in range(self.n):
                time.sleep(self.pause)
                for j, r in enumerate(reqs):
                    yield j, np.full((4, 1), i, np.float32)
                    self.rendered.append(f"{r['prompt']}:{i}")
            for st in kw["stats"]:
                st["first_audio_s"] = 0.01
        finally:
            with self.lock:
                self.active -= 1


def replica(model: FakeModel, max_batch: int = 1, keepalive_s: float = 30.0) -> MusicGenReplica:
    r = MusicGenReplica.__new__(MusicGenReplica)
    r.mg, r.clips, r.late, r.batches, r.max_batch = model, 0, 0, 0, max_batch
    r._turn = asyncio.Lock()
    r.keepalive_s = keepalive_s
    if max_batch > 1:
        from ray import serve
        from ray.serve import batching

        # outside a replica: Serve's check of the deployment's max_ongoing_requests (a
        # warning only) has no replica context to read
        batching._BatchQueue._warn_if_max_batch_size_exceeds_max_ongoing_requests = (  # type: ignore[method-assign]
            lambda self: None
        )

        r._batched = serve.batch(max_batch_size=max_batch, batch_wait_timeout_s=0.05)(
            r._render_batch
        )
    return r


def request(prompt: str, deadline: float | None = None) -> dict[str, Any]:
    return {"prompt": prompt, "seconds": 1.0, "seed": 0, "sampling": {}, "deadline": deadline}


async def collect(gen: Any) -> list[Any]:
    return [item async for item in gen]


def test_clips_take_turns_in_arrival_order_and_end_with_their_figures() -> None:
    """Two requests at once: one renders at a time, the first asked first; each yields its
    chunks then {"done": figures}."""
    model = FakeModel()
    r = replica(model)

    async def both() -> list[list[Any]]:
        return list(await asyncio.gather(collect(r.stream(request("a"))),
                                         collect(r.stream(request("b")))))  # fmt: skip

    a, b = asyncio.run(both())
    assert b[-1] == {"done": {"first_audio_s": 0.01}}
    assert model.most_active == 1
    assert model.rendered == ["a:0", "a:1", "a:2", "b:0", "b:1", "b:2"]
    assert [float(c[0, 0]) for c in a[:3]] == [0.0, 1.0, 2.0]
    assert a[-1] == {"done": {"first_audio_s": 0.01}} and r.clips == 2


def test_a_request_whose_turn_comes_after_its_deadline_is_dropped_unrendered() -> None:
    """A request still waiting at its deadline yields {"late": s} and renders nothing;
    one whose deadline is ahead renders."""
    model = FakeModel(n=5, pause=0.05)
    r = replica(model)

    async def go() -> list[list[Any]]:
        first = asyncio.ensure_future(collect(r.stream(request("slow"))))
        await asyncio.sleep(0.01)
        late = collect(r.stream(request("late", deadline=time.time() + 0.05)))
        return [await first, await late]

    slow, late = asyncio.run(go())
    assert len(slow) == 6 and len(late) == 1 and late[0]["late"] > 0
    assert r.late == 1 and not any(x.startswith("late") for x in model.rendered)


def test_a_cancelled_clip_stops_its_render_and_frees_the_turn() -> None:
    """A client that stops reading (the daemon gave up on the clip) stops the render thread
    within a chunk, and the next request gets the replica."""
    model = FakeModel(n=50, pause=0.02)
    r = replica(model)

    async def go() -> list[Any]:
        gen = r.stream(request("gone"))
        await gen.__anext__()
        await gen.aclose()
        return await collect(r.stream(request("next")))

    nxt = asyncio.run(go())
    assert sum(x.startswith("gone") for x in model.rendered) < 5
    assert len(nxt) == 51 and model.active == 0


def test_requests_that_arrive_together_decode_as_one_batch() -> None:
    """With max_batch 4, three requests at once go through one stream_batch (one forward
    pass per step for all): each gets only its own chunks, in order, then its figures;
    one past its deadline is dropped unrendered and the others are not held up."""
    model = FakeModel(n=3, pause=0.02)
    r = replica(model, max_batch=4)

    async def three() -> list[list[Any]]:
        reqs = [request("a"), request("b"), request("late", deadline=time.time() - 1)]
        return list(await asyncio.gather(*(collect(r.stream(q)) for q in reqs)))

    a, b, late = asyncio.run(three())
    assert model.batches == [["a", "b"]] and r.batches == 1
    for clip in (a, b):
        assert [float(c[0, 0]) for c in clip[:3]] == [0.0, 1.0, 2.0] and len(clip) == 4
        assert clip[-1] == {"done": {"first_audio_s": 0.01}}
    assert len(late) == 1 and late[0]["late"] > 0 and r.late == 1 and r.clips == 2


def test_a_batch_renders_one_adapter_blend_after_another() -> None:
    """Requests with different adapter blends cannot share weights: one batch per blend,
    in the batch's order, every request answered."""
    model = FakeModel(n=2, pause=0.01)
    r = replica(model, max_batch=4)

    async def go() -> list[list[Any]]:
        reqs = [request("x"), {**request("calm"), "adapters": {"calm": 0.5}}, request("y")]
        return list(await asyncio.gather(*(collect(r.stream(q)) for q in reqs)))

    outs = asyncio.run(go())
    assert model.batches == [["x", "y"], ["calm"]]
    assert all(o[-1] == {"done": {"first_audio_s": 0.01}} and len(o) == 3 for o in outs)


def test_the_backend_is_a_checked_config_key() -> None:
    """musicgen.backend takes local or ray, and a ray_deadline_seconds under 0.5 is refused
    by name."""
    assert load_config(None, ["musicgen.backend=ray"]).musicgen.backend == "ray"
    assert load_config(None, []).musicgen.backend == "local"
    with pytest.raises(ConfigError, match=r"musicgen\.backend"):
        load_config(None, ["musicgen.backend=cloud"])
    with pytest.raises(ConfigError, match="ray_deadline_seconds"):
        load_config(None, ["musicgen.ray_deadline_seconds=0.1"])


def test_serve_start_refuses_bad_replica_flags_before_reaching_a_cluster() -> None:
    """`bassd serve start --replicas 0` exits 2 with the flag named, without looking for a
    cluster (none runs here)."""
    pytest.importorskip("ray")
    r = subprocess.run([sys.executable, "-m", "bassd", "serve", "start", "--replicas", "0",
                        "--address", "127.0.0.1:1"], capture_output=True, text=True,
                       timeout=120)  # fmt: skip
    assert r.returncode == 2 and "--replicas must be at least 1" in r.stderr


def test_a_ray_client_address_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve cannot stream to a Ray Client driver (a live check saw every clip fail): a
    ray:// address in the config is a one-line error saying what to give instead, and one
    in RAY_ADDRESS fails the worker's connect with the same words."""
    from bassd.app.config import ConfigError, load_config
    from bassd.models.ray_client import RemoteMusicGen

    with pytest.raises(ConfigError, match=r"ray_address: a daemon cannot stream .*host:6379"):
        load_config(None, ["musicgen.ray_address=ray://render-box:10001"])
    monkeypatch.setenv("RAY_ADDRESS", "ray://render-box:10001")
    with pytest.raises(ValueError, match="RAY_ADDRESS=ray://render-box:10001: a daemon cannot"):
        RemoteMusicGen(None)


ALIVE = {"alive": True}


def test_a_waiting_or_slow_request_hears_from_its_replica_every_keepalive() -> None:
    """Chunks 0.25 s apart, keepalives every 0.05 s: the first request gets keepalives
    between its chunks, the second gets them while it waits its turn too; without them
    both streams are exactly what they were (chunks in order, then the figures)."""
    model = FakeModel(n=3, pause=0.25)
    r = replica(model, keepalive_s=0.05)

    async def both() -> list[list[Any]]:
        return list(await asyncio.gather(collect(r.stream(request("a"))),
                                         collect(r.stream(request("b")))))  # fmt: skip

    a, b = asyncio.run(both())
    for clip in (a, b):
        assert ALIVE in clip
        rest = [x for x in clip if not (isinstance(x, dict) and "alive" in x)]
        assert [float(c[0, 0]) for c in rest[:3]] == [0.0, 1.0, 2.0]
        assert rest[3:] == [{"done": {"first_audio_s": 0.01}}]
    first_chunk = next(i for i, x in enumerate(b) if not isinstance(x, dict))
    assert b[:first_chunk].count(ALIVE) >= 10  # 0.75 s of a's render: waited its turn
    assert model.rendered == ["a:0", "a:1", "a:2", "b:0", "b:1", "b:2"]


def test_a_request_cancelled_while_it_waits_frees_the_turn_and_the_render() -> None:
    """A client that gives up during a keepalive (the next chunk still coming) stops the
    render thread and the next request gets the replica."""
    model = FakeModel(n=50, pause=0.1)
    r = replica(model, keepalive_s=0.02)

    async def go() -> list[Any]:
        gen = r.stream(request("gone"))
        while (await gen.__anext__()) != ALIVE:
            pass
        await gen.aclose()
        return await collect(r.stream(request("next")))

    nxt = asyncio.run(go())
    assert sum(x.startswith("gone") for x in model.rendered) < 3
    assert sum(not isinstance(x, dict) for x in nxt) == 50 and model.active == 0


def test_a_silent_stream_is_a_lost_replica() -> None:
    """The client's reader: items pass through; a source silent for lost_s raises
    ReplicaLost naming the wait; an error in the source is raised as it is."""
    from bassd.models.ray_client import ReplicaLost, _within

    assert list(_within(iter([1, ALIVE, 2]), 1.0)) == [1, ALIVE, 2]
    stuck = threading.Event()

    def silent() -> Any:
        yield 1
        stuck.wait(10)  # a replica killed without Ray raising
        yield 2

    got: list[Any] = []
    with pytest.raises(ReplicaLost, match=r"no word from the replica for 0\.2 s"):
        got.extend(_within(silent(), 0.2))
    stuck.set()
    assert got == [1]

    def broken() -> Any:
        yield 1
        raise RuntimeError("actor died")

    with pytest.raises(RuntimeError, match="actor died"):
        list(_within(broken(), 1.0))


def test_a_batch_hears_keepalives_between_slow_steps() -> None:
    """Batched (max_batch 4), steps 0.25 s apart, keepalives every 0.05 s: each request gets
    keepalives and still exactly its own chunks, in order, then its figures."""
    model = FakeModel(n=3, pause=0.25)
    r = replica(model, max_batch=4, keepalive_s=0.05)

    async def two() -> list[list[Any]]:
        return list(await asyncio.gather(collect(r.stream(request("a"))),
                                         collect(r.stream(request("b")))))  # fmt: skip

    for clip in asyncio.run(two()):
        assert ALIVE in clip
        rest = [x for x in clip if not (isinstance(x, dict) and "alive" in x)]
        assert [float(c[0, 0]) for c in rest[:3]] == [0.0, 1.0, 2.0]
        assert rest[3:] == [{"done": {"first_audio_s": 0.01}}]
    assert model.batches == [["a", "b"]]
