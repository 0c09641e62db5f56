"""The jam: chord-decision latency, render cost, and click/chord onset error offline and live.

Measures what the user runs: ``bassd jam render`` (the CLI's own argument parsing, config
and ``render_jam`` path, called in-process through :func:`bassd.cli.main` with a hook on
``render_offline`` that only observes, or as a subprocess) on a music21 corpus melody
(``tests/jam_midi.corpus_melody``, Essen ``altdeu10``, written as a MIDI file at 120 bpm),
and ``bassd run`` on a private JACK dummy server.

* ``decision``: ``jam_decision_us`` (the Jam's ``_decision_us``: Ear + fusion with the
  prediction made ahead + voicing + pattern; the think-ahead call for the next bar comes
  after it, once the bar's notes are scheduled) over every
  chord of the melody with the CLI's defaults, beside the predictor alone and the Ear
  alone (their calls recorded in the same render, timed in situ and replayed in isolation);
  the engine's cost per 256-frame block with the jam on (accompaniment + metronome, no bed)
  against the engine with the jam off (no bed), and the jam layer alone.
* ``offline``: the WAV onset of every metronome click (first sample above 1e-4 after
  >= 10 ms below it) against the beat frames of events.csv (beat 0 excluded: it falls in
  the engine's 20 ms master fade-in); every chord's onset, exactly: the sample where the
  engine's output first differs from the same render in which the chord notes from that
  chord's frame on are never started (FluidSynth note-ons dropped by a proxy), against the
  chord's frame; the CLI's WAV checked equal to the in-process render.
* ``live``: ``bassd run`` (jam, metronome on, bed and accompaniment off, 120 bpm) on
  ``jackd -d dummy -r 48000 -p 256``; a JACK client records PortAudio's output with each
  block's ``last_frame_time``; the click onsets against the grid fitted to the first one,
  and the daemon's ``dry_callbacks``.

    .venv/bin/python benchmarks/bench_jam.py [--part decision|offline|live|all]

Writes ``benchmarks/results/jam.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
import numpy as np  # noqa: E402
from _common import machine, table, write_results  # noqa: E402

SR, BLOCK = 48000, 256
PERIOD_US = BLOCK / SR * 1e6
MELODY = "essenFolksong/altdeu10"
BPM = 120.0
CLICK_THRESHOLD = 1e-4
QUIET_S = 0.010


# -- helpers ------------------------------------------------------------------------------
def pcts(xs: list[float] | np.ndarray) -> dict[str, float | int | None]:
    a = np.asarray(xs, dtype=float)
    if a.size == 0:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    return {
        "n": int(a.size),
        "p50": float(np.percentile(a, 50)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }


def write_melody(path: Path) -> dict[str, Any]:
    from tests.jam_midi import corpus_melody, write_notes_midi

    notes, beats = corpus_melody(MELODY)
    write_notes_midi(path, notes, BPM, beats)
    return {"corpus": MELODY, "notes": len(notes), "beats_per_bar": beats, "bpm": BPM,
            "length_beats": max(s + n for s, n, _, _ in notes)}  # fmt: skip


def events(csv_path: Path) -> list[dict[str, Any]]:
    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        try:
            r["d"] = json.loads(r["detail"])
        except (json.JSONDecodeError, TypeError):
            r["d"] = {}
    return rows


def frames_of(rows: list[dict[str, Any]], kind: str) -> list[int]:
    return [int(r["d"]["frame"]) for r in rows if r["kind"] == kind and "frame" in r["d"]]


def click_onsets(x: np.ndarray, threshold: float = CLICK_THRESHOLD) -> list[int]:
    """First sample above ``threshold`` after at least QUIET_S below it (or the start)."""
    quiet = round(QUIET_S * SR)
    loud = np.flatnonzero(np.abs(x) > threshold)
    if loud.size == 0:
        return []
    gaps = np.diff(loud)
    starts = [int(loud[0])]
    starts += [int(loud[i + 1]) for i in np.flatnonzero(gaps > quiet)]
    return starts


def cli(args: list[str], cwd: Path) -> float:
    """``bassd jam render ...`` as the user types it (a subprocess); its wall seconds."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bassd", "jam", "render", *args], cwd=cwd,
                   check=True, capture_output=True, text=True)  # fmt: skip
    return time.perf_counter() - t0


@contextlib.contextmanager
def hooked(on_session: Callable[[Any], None], stop_frame: int | None = None) -> Iterator[None]:
    """While active, ``render_jam``'s ``render_offline`` calls ``on_session(session)``
    before the first block (and renders only up to ``stop_frame`` when given)."""
    import bassd.app.jam_render as jr

    orig = jr.render_offline

    def render_offline(config: Any, seconds: float, out: Any, **kw: Any) -> Any:
        feed = kw.pop("feed")
        started: list[bool] = []

        def feed2(session: Any, frame0: int, n: int) -> None:
            if not started:
                started.append(True)
                on_session(session)
            feed(session, frame0, n)

        if stop_frame is not None:
            seconds = min(seconds, stop_frame / config.audio.sample_rate)
        return orig(config, seconds, out, feed=feed2, **kw)

    jr.render_offline = render_offline
    try:
        yield
    finally:
        jr.render_offline = orig


def in_process(args: list[str], cwd: Path) -> int:
    """``bassd jam render ...`` through the CLI's own main, in this process."""
    from bassd.cli import main

    old = Path.cwd()
    os.chdir(cwd)
    try:
        with (
            open(os.devnull, "w") as null,
            contextlib.redirect_stdout(null),
            contextlib.redirect_stderr(null),
        ):
            rc = main(["jam", "render", *args])
    finally:
        os.chdir(old)
    if rc != 0:
        raise RuntimeError(f"bassd jam render {' '.join(args)} -> {rc}")
    return rc


def time_calls(obj: Any, name: str, sink: list[float]) -> None:
    fn = getattr(obj, name)

    def timed(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        r = fn(*a, **k)
        sink.append((time.perf_counter() - t0) * 1e6)
        return r

    setattr(obj, name, timed)


# -- part 1 -------------------------------------------------------------------------------
def part_decision(work: Path, midi: Path) -> dict[str, Any]:
    from bassd.app.config import load_config
    from bassd.app.offline import render_offline

    res: dict[str, Any] = {}
    # (a) the CLI's defaults, nothing wrapped: the Jam's own decision timer
    jams: list[Any] = []
    with hooked(lambda s: jams.append(s.controller.jam)):
        t0 = time.perf_counter()
        in_process(["--midi", str(midi), "--out", str(work / "dec.wav"), "--session", "dec"],
                   work)  # fmt: skip
        wall = time.perf_counter() - t0
    jam = jams[0]
    dec = list(jam._decision_us)
    fig = jam.figures()
    res["decision_cli_args"] = "bassd jam render --midi M.mid --out X.wav (defaults)"
    res["decision_us"] = pcts(dec)
    res["decision_us_all"] = [round(x, 2) for x in dec]
    res["decisions"] = jam.decisions
    res["figures_last"] = {k: fig[k] for k in ("jam_decision_us", "jam_decision_p99_us")}
    res["render_wall_s"] = wall
    res["style"] = jam.style

    # (b) the same render with the predictor's and the Ear's calls recorded and timed
    pred_us: list[float] = []
    ear_us: list[float] = []
    pred_args: list[tuple[Any, ...]] = []
    ear_args: list[tuple[Any, ...]] = []
    dec_b: list[float] = []

    def instrument(session: Any) -> None:
        h = session.controller.jam.harmonist
        p, e = h.predictor, h.ear.distribution

        def pred(*a: Any) -> Any:
            pred_args.append((list(a[0]), a[1]))
            t0 = time.perf_counter()
            r = p(*a)
            pred_us.append((time.perf_counter() - t0) * 1e6)
            return r

        def ear(notes: Any, key: Any, window: Any) -> Any:
            ear_args.append((list(notes), key, window))
            t0 = time.perf_counter()
            r = e(notes, key, window=window)
            ear_us.append((time.perf_counter() - t0) * 1e6)
            return r

        h.predictor = pred
        h.ear.distribution = ear
        jams.append(session.controller.jam)

    with hooked(instrument):
        in_process(["--midi", str(midi), "--out", str(work / "dec2.wav"), "--session", "dec2"],
                   work)  # fmt: skip
    dec_b = list(jams[-1]._decision_us)
    ear = jams[-1].harmonist.ear
    from bassd.models.chord_predictor import ChordPredictor

    cp = ChordPredictor.load(None, context=8)
    iso_pred, iso_ear = [], []
    for hist, mode in pred_args:
        iso_pred.append(_median_us(lambda hist=hist, mode=mode: cp.predict(hist, mode)))
    for notes, key, window in ear_args:
        iso_ear.append(
            _median_us(lambda n=notes, k=key, w=window: type(ear).distribution(ear, n, k, window=w))
        )
    res["decision_us_instrumented"] = pcts(dec_b)
    res["predictor_in_situ_us"] = pcts(pred_us)
    res["ear_in_situ_us"] = pcts(ear_us)
    res["predictor_isolated_us"] = pcts(iso_pred)
    res["ear_isolated_us"] = pcts(iso_ear)
    res["predictor_calls_per_decision"] = len(pred_us) / max(1, len(dec_b))
    res["ear_calls_per_decision"] = len(ear_us) / max(1, len(dec_b))

    # (c) render cost per block: jam on (accompaniment + metronome, no bed) vs jam off
    eng_on: list[float] = []
    layer_on: list[float] = []

    def time_blocks(session: Any) -> None:
        time_calls(session.engine, "render", eng_on)
        time_calls(session.controller.jam, "render", layer_on)

    with hooked(time_blocks):
        in_process(["--midi", str(midi), "--out", str(work / "on.wav"), "--no-bed",
                    "--metronome", "--session", "on"], work)  # fmt: skip
    seconds = len(eng_on) * BLOCK / SR
    eng_off: list[float] = []
    cfg = load_config(None, ["jam.enabled=false"])
    old = Path.cwd()
    os.chdir(work)
    try:
        render_offline(cfg, seconds, work / "off.wav", bed=False, record_events=False,
                       feed=_once(lambda s: time_calls(s.engine, "render", eng_off)))  # fmt: skip
    finally:
        os.chdir(old)
    res["blocks"] = len(eng_on)
    res["engine_block_us_jam_on"] = pcts(eng_on)
    res["engine_block_us_jam_off"] = pcts(eng_off)
    res["jam_layer_block_us"] = pcts(layer_on)
    res["block_cost_args"] = (
        "jam on: bassd jam render --no-bed --metronome (block style, "
        "melody thru); jam off: render_offline jam.enabled=false, bed off"
    )
    return res


def _once(fn: Callable[[Any], None]) -> Callable[[Any, int, int], None]:
    done: list[bool] = []

    def feed(session: Any, frame0: int, n: int) -> None:
        if not done:
            done.append(True)
            fn(session)

    return feed


def _median_us(fn: Callable[[], object], repeats: int = 30) -> float:
    """The median of ``repeats`` warm calls, µs (a call replayed on its own, caches hot)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e6


def print_decision(r: dict[str, Any]) -> None:
    rows = [
        ["jam decision (jam_decision_us)", *_p(r["decision_us"])],
        ["  same, instrumented render", *_p(r["decision_us_instrumented"])],
        ["predictor.predict in situ", *_p(r["predictor_in_situ_us"])],
        ["predictor.predict isolated (median of 30)", *_p(r["predictor_isolated_us"])],
        ["Ear.distribution in situ", *_p(r["ear_in_situ_us"])],
        ["Ear.distribution isolated (median of 30)", *_p(r["ear_isolated_us"])],
    ]
    print(f"\n1. chord decision, µs per call ({r['decisions']} chords, style {r['style']}; "
          f"{r['predictor_calls_per_decision']:.2f} predictor and "
          f"{r['ear_calls_per_decision']:.2f} Ear calls per decision)")  # fmt: skip
    print(table(["what", "n", "p50 µs", "p99 µs", "max µs"], rows))
    print("   jam_decision_us times Harmonist.decide (the Ear and the fusion with the prediction")
    print("   made ahead) + voicing + pattern; key_at, scheduling and think_ahead are outside it.")
    rows = []
    for label, key in (("engine.render, jam on (chords+click)", "engine_block_us_jam_on"),
                       ("engine.render, jam off (anchor)", "engine_block_us_jam_off"),
                       ("jam layer alone (Jam.render)", "jam_layer_block_us")):  # fmt: skip
        p = r[key]
        rows.append([label, p["n"], p["p50"], p["p99"], p["max"],
                     100 * p["p50"] / PERIOD_US, 100 * p["p99"] / PERIOD_US])  # fmt: skip
    print(f"\n1b. render cost per {BLOCK}-frame block (period {PERIOD_US:.0f} µs), no bed")
    print(table(["what", "blocks", "p50 µs", "p99 µs", "max µs", "p50 %", "p99 %"], rows))


def _p(p: dict[str, Any]) -> list[Any]:
    return [p["n"], p["p50"], p["p99"], p["max"]]


# -- part 2 -------------------------------------------------------------------------------
class DropChords:
    """A proxy of the jam's FluidVoice that never starts chord notes from ``cut`` on."""

    def __init__(self, synth: Any, cut: int) -> None:
        self.synth, self.cut, self.pos = synth, cut, 0
        self.out: list[np.ndarray] = []  # what FluidSynth rendered, before the mix

    def render(self, frames: int) -> np.ndarray:
        self.pos += frames
        out = self.synth.render(frames)
        self.out.append(out.copy())
        return out

    def note_on(self, channel: int, note: int, velocity: int) -> None:
        if channel == 0 and self.pos >= self.cut:
            return
        self.synth.note_on(channel, note, velocity)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.synth, name)


def _collect(session: Any, sink: list[np.ndarray]) -> None:
    eng = session.engine
    fn = eng.render

    def render(n: int) -> np.ndarray:
        out = fn(n)
        sink.append(out.copy())
        return out

    eng.render = render


def chord_onsets(work: Path, midi: Path, extra: list[str], tag: str, max_chords: int
                 ) -> dict[str, Any]:  # fmt: skip
    """Exact onsets of the chords of ``bassd jam render --no-bed --no-melody --style pad``."""
    import soundfile as sf

    args = ["--midi", str(midi), "--no-bed", "--no-melody", "--style", "pad",
            "--set", "jam.level_db=0", *extra]  # fmt: skip
    cli([*args, "--out", str(work / f"{tag}.wav"), "--session", tag], work)
    cli([*args, "--set", "jam.accompaniment=false", "--out", str(work / f"{tag}_off.wav"),
         "--session", f"{tag}_off"], work)  # fmt: skip
    rows = events(work / "outputs" / "sessions" / tag / "events.csv")
    chords = frames_of(rows, "chord")
    wav, sr = sf.read(work / f"{tag}.wav", dtype="float64", always_2d=True)
    off, _ = sf.read(work / f"{tag}_off.wav", dtype="float64", always_2d=True)
    assert sr == SR
    diff = np.abs(wav - off).max(axis=1)
    first_wav = int(np.flatnonzero(diff > 0)[0]) if (diff > 0).any() else None
    # the full render in-process (float), checked against the CLI's 24-bit WAV
    full: list[np.ndarray] = []
    proxies: list[DropChords] = []

    def setup_full(s: Any) -> None:
        jam = s.controller.jam
        jam.synth = DropChords(jam.synth, 1 << 62)  # drops nothing: FluidSynth's own output
        proxies.append(jam.synth)
        _collect(s, full)

    with hooked(setup_full):
        in_process([*args, "--out", str(work / f"{tag}_ip.wav"), "--session", f"{tag}_ip"],
                   work)  # fmt: skip
    ref = np.concatenate(full)
    ref_synth = np.concatenate(proxies[0].out)
    n = min(len(ref), len(wav))
    lsb = 2.0**-23
    wav_vs_ip = float(np.abs(ref[:n].astype(np.float64) - wav[:n]).max() / lsb)
    errors, onsets, synth_errors = [], [], []
    for f in chords[:max_chords]:
        got: list[np.ndarray] = []
        cut_proxy: list[DropChords] = []

        def setup(s: Any, f: int = f, got: list[np.ndarray] = got,
                  cut_proxy: list[DropChords] = cut_proxy) -> None:  # fmt: skip
            jam = s.controller.jam
            jam.synth = DropChords(jam.synth, f)
            cut_proxy.append(jam.synth)
            _collect(s, got)

        with hooked(setup, stop_frame=f + 8 * BLOCK):
            in_process([*args, "--out", str(work / f"{tag}_cut.wav"), "--session",
                        f"{tag}_cut"], work)  # fmt: skip
        cut = np.concatenate(got)
        m = min(len(cut), len(ref))
        d = np.flatnonzero(np.any(cut[:m] != ref[:m], axis=1))
        onset = int(d[0]) if d.size else None
        onsets.append(onset)
        errors.append(None if onset is None else onset - f)
        cs = np.concatenate(cut_proxy[0].out)
        m = min(len(cs), len(ref_synth))
        d = np.flatnonzero(np.any(cs[:m] != ref_synth[:m], axis=1))
        synth_errors.append(int(d[0]) - f if d.size else None)
    ok = [e for e in errors if e is not None]
    return {
        "args": "bassd jam render "
        + " ".join(a if not a.endswith(".mid") else "M.mid" for a in args),
        "chords_total": len(chords),
        "chords_measured": len(errors),
        "chord_frames": chords[:max_chords],
        "onsets": onsets,
        "errors_samples": errors,
        "errors_at_fluidsynth_output": synth_errors,
        "error_max": max(ok) if ok else None,
        "error_min": min(ok) if ok else None,
        "error_mean": float(np.mean(ok)) if ok else None,
        "frames_mod_64": [f % 64 for f in chords[:max_chords]],
        "missing": sum(e is None for e in errors),
        "first_chord_frame": chords[0] if chords else None,
        "first_chord_wav_onset": first_wav,
        "off_render_silent": bool(np.abs(off).max() == 0.0),
        "cli_wav_vs_in_process_max_lsb": wav_vs_ip,
    }


def part_offline(work: Path, midi: Path, max_chords: int) -> dict[str, Any]:
    import soundfile as sf

    res: dict[str, Any] = {}
    args = ["--midi", str(midi), "--out", str(work / "clicks.wav"), "--no-bed", "--no-melody",
            "--metronome", "--set", "jam.accompaniment=false", "--session", "clicks"]  # fmt: skip
    cli(args, work)
    beats = frames_of(events(work / "outputs" / "sessions" / "clicks" / "events.csv"), "beat")
    x, _ = sf.read(work / "clicks.wav", dtype="float64", always_2d=True)
    onsets = click_onsets(np.abs(x).max(axis=1))
    beats1 = [b for b in beats if b > 0]  # beat 0: in the master fade-in, excluded
    on = np.asarray(onsets)
    errs = []
    for b in beats1:
        near = on[np.abs(on - b) < SR // 8] if on.size else on
        errs.append(int(near[np.argmin(np.abs(near - b))] - b) if near.size else None)
    ok = [abs(e) for e in errs if e is not None]
    res["clicks"] = {
        "args": "bassd jam render --midi M.mid --no-bed --no-melody --metronome "
        "--set jam.accompaniment=false",
        "beats": len(beats),
        "beats_measured": len(beats1),
        "onsets_found": len(onsets),
        "missing": sum(e is None for e in errs),
        "error_max_abs": max(ok) if ok else None,
        "error_mean_abs": float(np.mean(ok)) if ok else None,
        "errors_nonzero": [e for e in errs if e],
        "beat0_excluded": "beat 0 is at frame 0, inside the 20 ms master fade-in",
        "beat0_onset_found": int(on[0]) if on.size and on[0] < SR // 8 else None,
    }
    res["chords_120bpm"] = chord_onsets(work, midi, [], "ch120", max_chords)
    res["chords_97bpm"] = chord_onsets(work, midi, ["--tempo", "97"], "ch97", max_chords)
    return res


def print_offline(r: dict[str, Any]) -> None:
    c = r["clicks"]
    rows = [["clicks (metronome), 120 bpm", c["beats_measured"], c["missing"],
             c["error_max_abs"], c["error_mean_abs"]]]  # fmt: skip
    for key, label in (("chords_120bpm", "chords (pad), 120 bpm"),
                       ("chords_97bpm", "chords (pad), 97 bpm")):  # fmt: skip
        ch = r[key]
        rows.append([label, f"{ch['chords_measured']}/{ch['chords_total']}", ch["missing"],
                     ch["error_max"], ch["error_mean"]])  # fmt: skip
    print("\n2. offline onset error, samples (onset - frame in events.csv; beat 0 excluded)")
    print(table(["what", "measured", "missing", "max", "mean"], rows))
    print(f"   clicks: non-zero errors {c['errors_nonzero']}; beat 0 (frame 0, in the 20 ms "
          f"fade-in) excluded, its onset found at {c['beat0_onset_found']}")  # fmt: skip
    for key in ("chords_120bpm", "chords_97bpm"):
        ch = r[key]
        print(f"   {key}: errors {ch['errors_samples']} (at FluidSynth's own output: "
              f"{ch['errors_at_fluidsynth_output']}); frame mod 64 {ch['frames_mod_64']}; "
              f"first chord frame {ch['first_chord_frame']}, first non-zero sample of the "
              f"24-bit WAV {ch['first_chord_wav_onset']}; CLI WAV vs in-process render "
              f"{ch['cli_wav_vs_in_process_max_lsb']:.2f} LSB")  # fmt: skip


# -- part 3 -------------------------------------------------------------------------------
class Capture:
    """A JACK client recording PortAudio's first output port with each block's frame."""

    def __init__(self, server: str) -> None:
        import jack

        self.client = jack.Client(f"cap-{uuid.uuid4().hex[:6]}", servername=server,
                                  no_start_server=True)  # fmt: skip
        self.port = self.client.inports.register("in")
        self.blocks: list[tuple[int, np.ndarray]] = []
        self.lock = threading.Lock()

        @self.client.set_process_callback
        def process(frames: int) -> None:
            block = np.array(self.port.get_array(), dtype=np.float32)
            t = self.client.last_frame_time
            with self.lock:
                self.blocks.append((t, block))

        self.client.activate()
        src = next(p for p in self.client.get_ports(is_output=True, is_audio=True)
                   if p.name.startswith("PortAudio"))  # fmt: skip
        self.client.connect(src, self.port)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def part_live(work: Path, seconds: float) -> dict[str, Any]:
    from tests.daemon import DaemonProcess
    from tests.jack import JackServer
    from tests.osc_client import free_udp_port, status_json

    sets = ["jam.enabled=true", "jam.bed=false", "jam.accompaniment=false",
            "jam.metronome.enabled=true", "jam.tempo_bpm=120"]  # fmt: skip
    server = JackServer(f"benchjam-{uuid.uuid4().hex[:6]}")
    server.start()
    daemon = None
    try:
        osc, reply = free_udp_port(), free_udp_port()
        live_dir = work / "live"
        live_dir.mkdir()
        daemon = DaemonProcess(live_dir, server, osc, reply,
                               [x for s in sets for x in ("--set", s)])  # fmt: skip
        daemon.wait_for_log("osc_listening", timeout=30)
        time.sleep(0.5)
        before = status_json(osc, reply)
        cap = Capture(server.name)
        try:
            time.sleep(seconds)
        finally:
            cap.close()
        after = status_json(osc, reply)
        jack_xruns = server.xruns()  # the server's own log: driver overruns and late clients
    finally:
        if daemon is not None:
            daemon.stop()
        server.stop()
    blocks = cap.blocks
    t0 = blocks[0][0]
    span = blocks[-1][0] + len(blocks[-1][1]) - t0
    x = np.zeros(span, dtype=np.float32)
    have = np.zeros(span, dtype=bool)
    for t, b in blocks:
        x[t - t0 : t - t0 + len(b)] = b
        have[t - t0 : t - t0 + len(b)] = True
    onsets = click_onsets(x)
    period = round(SR * 60 / 120.0)
    dev, ks = [], []
    if onsets:
        first = onsets[0]
        for o in onsets:
            k = round((o - first) / period)
            ks.append(k)
            dev.append(o - (first + k * period))
    gaps = int((~have).sum())
    ad = [abs(d) for d in dev[1:]]
    return {
        "daemon_sets": sets,
        "jackd": f"jackd -n NAME -R -P 70 -d dummy -r {SR} -p {BLOCK}",
        "capture_seconds": span / SR,
        "capture_blocks": len(blocks),
        "capture_missing_frames": gaps,
        "clicks": len(onsets),
        "beats_expected": int(span // period),
        "beat_indices_skipped": sum(b - a - 1 for a, b in itertools.pairwise(ks)),
        "deviation_samples": dev,
        "deviation_max_abs": max(ad) if ad else None,
        "deviation_mean_abs": float(np.mean(ad)) if ad else None,
        "first_onset_jack_frame": (t0 + onsets[0]) if onsets else None,
        "dry_callbacks": after["dry_callbacks"] - before["dry_callbacks"],
        # a server xrun that skips PortAudio's client delays everything after it by a block
        # against JACK's frame clock (the ring is not consumed in that cycle)
        "server_xruns": after["server_xruns"] - before["server_xruns"],
        "jack_log_xruns": jack_xruns,
        "dry_callbacks_total": after["dry_callbacks"],
        "callbacks": after.get("callbacks", 0) - before.get("callbacks", 0),
        "jam_beat_status": after.get("jam_beat"),
    }


def print_live(r: dict[str, Any]) -> None:
    rows = [["clicks on JACK (120 bpm, grid 24000)", r["clicks"], r["beats_expected"],
             r["beat_indices_skipped"], r["deviation_max_abs"], r["deviation_mean_abs"],
             r["dry_callbacks"], r["jack_log_xruns"]]]  # fmt: skip
    print(f"\n3. live onset deviation from the grid fitted to the first click, samples "
          f"({r['capture_seconds']:.1f} s captured, {r['capture_missing_frames']} frames "
          f"missing from the capture)")  # fmt: skip
    print(table(["what", "clicks", "expected", "skipped", "max |dev|", "mean |dev|", "dry cb",
                 "jack xruns"], rows))  # fmt: skip
    print("   a server xrun that skips bassd's client delays what follows by a block against")
    print("   JACK's frame clock (the ring is not read in that cycle); the engine's clock is")
    print("   the frames played, so the grid itself stays exact")


# -- main ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("decision", "offline", "live", "all"), default="all")
    ap.add_argument("--chords", type=int, default=16, help="chords measured exactly per tempo")
    ap.add_argument("--seconds", type=float, default=15.0, help="live capture length")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()
    t_start = time.perf_counter()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()  # fmt: skip
    payload: dict[str, Any] = {
        "command": " ".join([".venv/bin/python", "benchmarks/bench_jam.py", *sys.argv[1:]]),
        "git_commit": commit,
        "load_average_start": load0,
        "blas_threads": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
    }
    with tempfile.TemporaryDirectory(prefix="bench-jam-") as tmp:
        work = Path(tmp)
        midi = work / "melody.mid"
        payload["melody"] = write_melody(midi)
        if args.part in ("decision", "all"):
            payload["decision"] = part_decision(work, midi)
            print_decision(payload["decision"])
        if args.part in ("offline", "all"):
            payload["offline"] = part_offline(work, midi, args.chords)
            print_offline(payload["offline"])
        if args.part in ("live", "all"):
            payload["live"] = part_live(work, args.seconds)
            print_live(payload["live"])
    payload["load_average_end"] = os.getloadavg()
    payload["wall_seconds"] = time.perf_counter() - t_start
    payload["machine_detail"] = machine()
    path = write_results("jam", payload)
    print(f"\nload average {load0} -> {payload['load_average_end']}; "
          f"{payload['wall_seconds']:.0f} s; wrote {path}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
