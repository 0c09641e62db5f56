"""The neural renderer in the live daemon on the JACK dummy device: worker faults never
stop the audio, the worker comes back, missing weights leave the DSP renderer playing."""

from __future__ import annotations

import csv
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.health import assert_engine_healthy
from tests.osc_client import oscsend, query_status, wait_status

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("need_liblo")]


def neural_args(model: Path | str, *extra: str) -> list[str]:
    sets = [
        "renderer.name=musicgen",
        f"musicgen.model={model}",
        "musicgen.min_clip_seconds=3",
        "musicgen.restart_backoff_seconds=0.2",
        "musicgen.stall_seconds=1.5",
        "timeline.segment_seconds=3",
        "timeline.crossfade_seconds=0.5",
        *extra,
    ]
    return [x for s in sets for x in ("--set", s)]


def neural_rows(d: Any, after_s: float = 0.0) -> list[dict[str, str]]:
    path = d.workdir / "outputs" / "metrics.csv"
    rows = list(csv.DictReader(path.open())) if path.exists() else []
    return [r for r in rows if r["renderer"] == "musicgen" and r["fallback"] == "0"
            and float(r["start_s"]) >= after_s]  # fmt: skip


def test_hung_worker_is_killed_and_replaced_without_a_gap(
    jack_server, start_daemon, tiny_model_dir: Path
) -> None:
    """A worker that stops making progress (SIGSTOP) is killed after stall_seconds, its clip
    falls back to DSP, a new worker takes over and the next segments are neural again; the
    audio never ran dry; the daemon's exit leaves no worker and no shared memory."""
    d = start_daemon(jack_server, *neural_args(tiny_model_dir))
    mark = jack_server.mark()
    st = wait_status(d, lambda s: s["neural_clips"] >= 2)
    pid = st["neural_worker_pid"]
    os.kill(pid, signal.SIGSTOP)
    stopped_at = st["session_t"]
    st = wait_status(d, lambda s: s["neural_restarts"] >= 1 and s["neural_state"] == "ready")
    assert st["neural_worker_pid"] != pid
    assert st["neural_failures"] >= 1
    failed = [e for e in d.events() if e["event"] == "neural_worker_failed"]
    assert failed and "no progress" in failed[0]["reason"]
    clips = st["neural_clips"]
    st = wait_status(d, lambda s: s["neural_clips"] >= clips + 2)
    wait_status(d, lambda s: len(neural_rows(d, stopped_at + 2)) >= 1)
    assert st["fallbacks"] >= 2  # the first segment (model loading) and the hung clip's
    assert_engine_healthy(st, jack_server, mark)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the hung worker was killed and reaped
    events = [e["event"] for e in d.events()]
    assert "neural_worker_failed" in events
    worker = st["neural_worker_pid"]
    assert d.stop() == 0
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)
    assert d.shm_blocks() == []


def test_killed_worker_restarts_and_music_goes_on(
    jack_server, start_daemon, tiny_model_dir: Path
) -> None:
    """SIGKILL of the worker right after a skip (mid-clip): counted, restarted with backoff,
    later segments neural again, no dry callback."""
    d = start_daemon(jack_server, *neural_args(tiny_model_dir))
    mark = jack_server.mark()
    st = wait_status(d, lambda s: s["neural_clips"] >= 1)
    oscsend(d.osc_port, "/segment/skip")
    time.sleep(0.02)
    os.kill(st["neural_worker_pid"], signal.SIGKILL)
    killed_at = st["session_t"]
    st = wait_status(d, lambda s: s["neural_restarts"] == 1 and s["neural_state"] == "ready")
    wait_status(d, lambda s: len(neural_rows(d, killed_at + 1)) >= 1)
    st = query_status(d.osc_port, d.reply_port)
    assert st["neural_restarts"] == 1
    assert_engine_healthy(st, jack_server, mark)
    assert (
        "worker exited"
        in next(e for e in d.events() if e["event"] == "neural_worker_failed")["reason"]
    )


def test_missing_weights_keep_dsp_playing_and_say_how_to_fetch(
    jack_server, start_daemon, tmp_path: Path
) -> None:
    """Weights that are not on the machine: the daemon starts and plays the DSP renderer,
    /status says missing-weights with the command that fetches them, and the log says it once."""
    d = start_daemon(jack_server, *neural_args(tmp_path / "no-such-model"))
    mark = jack_server.mark()
    st = wait_status(d, lambda s: s["neural_state"] == "missing-weights", timeout=30)
    assert f"bassd models download {tmp_path / 'no-such-model'}" in st["neural_reason"]
    time.sleep(4.0)
    st = query_status(d.osc_port, d.reply_port)
    assert st["neural_state"] == "missing-weights" and st["fallbacks"] >= 1
    assert st["neural_restarts"] == 0
    assert_engine_healthy(st, jack_server, mark)
    missing = [e for e in d.events() if e["event"] == "neural_weights_missing"]
    assert len(missing) == 1 and missing[0]["fetch"].startswith("bassd models download")


def test_osc_blend_reaches_the_next_clips(
    jack_server, start_daemon, tiny_model_dir: Path, tmp_path: Path
) -> None:
    """/adapter/blend from an independent OSC client: the next clips are rendered with that
    blend (their metrics rows say so); an unknown adapter is rejected with a reason; /adapter/
    clear goes back to the configured blend."""
    from transformers import MusicgenForConditionalGeneration

    from tests.adapters.synth import SPECS, make_adapter
    from tests.osc_client import OscDump

    base = MusicgenForConditionalGeneration.from_pretrained(tiny_model_dir, local_files_only=True)
    make_adapter(base, SPECS[0], tmp_path)  # tmp_path/plain
    d = start_daemon(jack_server, *neural_args(tiny_model_dir, f"musicgen.adapters_dir={tmp_path}"))
    wait_status(d, lambda s: s["neural_state"] == "ready")
    with OscDump(d.reply_port) as dump:
        oscsend(d.osc_port, "/adapter/blend", "sf", "nope", 0.5)
        err = dump.wait_for("/error", 5)
    assert "unknown adapter 'nope'" in err and "plain" in err
    oscsend(d.osc_port, "/adapter/blend", "sf", "plain", 0.5)
    t = query_status(d.osc_port, d.reply_port)["session_t"]
    wait_status(d, lambda s: any(r["adapters"] == '{"plain": 0.5}' for r in neural_rows(d, t)))
    assert query_status(d.osc_port, d.reply_port)["neural_blend"] == {"plain": 0.5}
    oscsend(d.osc_port, "/adapter/clear")
    assert wait_status(d, lambda s: s["neural_blend"] == {})["neural_failures"] == 0
