"""The status record: every figure ``/status`` reports, typed, in one place.

``/status/json`` is the whole record; the fields marked ``push`` are also sent
one message each (``/status/<field>``, typed for a TouchOSC label or a Max
``[route]``) and pushed to subscribers. ``STATUS_FIELDS``, the patches and the
table in ``docs/osc.md`` are all derived from this record.

Health figures come in two kinds. The engine's own failures: ``dry_callbacks``
(the audio callback found the ring empty) and ``late_pumps`` (the pump woke
with less than one block left in the ring): both are 0 on a healthy daemon.
The sound server's: ``server_xruns`` (PortAudio's output-underflow flags,
which the JACK host API raises after a server xrun; JACK's dummy driver on a
busy VM overruns on its own, with or without bassd).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def _f(osc: str, doc: str, default: Any = None, *, push: bool = False) -> Any:
    return field(default=default, metadata={"osc": osc, "doc": doc, "push": push})


def _d(doc: str) -> Any:
    return field(default_factory=dict, metadata={"osc": "json", "doc": doc, "push": False})


@dataclass
class Status:
    # the device and the engine's health
    stream: str = _f("s", "device: starting, playing, reopening, stopping, stopped", "starting")
    dry_callbacks: int = _f(
        "i", "callbacks that found the ring empty (engine failure)", 0, push=True
    )
    late_pumps: int = _f("i", "pump wake-ups with < 1 block in the ring (engine near-miss)", 0)
    slow_blocks: int = _f("i", "blocks that took over half the ring's lead to render", 0)
    offcpu_blocks: int = _f(
        "i", "slow blocks whose loop thread was taken off the CPU (the machine's stall)", 0
    )
    slow_gcs: int = _f("i", "garbage collections over 2 ms while playing (a loop stall)", 0)
    gc_max_ms: float = _f("f", "the longest garbage collection while playing (ms)", 0.0)
    late_imports: int = _f(
        "i", "modules imported while the music played (each one a stall risk)", 0
    )
    server_xruns: int = _f("i", "PortAudio underflow flags: the sound server's xruns", 0, push=True)
    underrun_events: int = _f("i", "transitions from playing to a dry ring", 0)
    callbacks: int = _f("i", "audio callbacks since start", 0, push=True)
    frames_out: int = _f("i", "frames handed to the device", 0)
    callback_count: int = _f("i", "callbacks in the duration histogram", 0)
    callback_max_us: float = _f("f", "longest callback (µs)", 0.0)
    callback_p50_us: float | None = _f("f", "median callback duration (µs)")
    callback_p99_us: float | None = _f("f", "99th percentile callback duration (µs)")
    callback_p999_us: float | None = _f("f", "99.9th percentile callback duration (µs)")
    ring_fill: int = _f("i", "frames rendered ahead in the ring", 0)
    stream_restarts: int = _f("i", "device reopened after a loss", 0)
    stream_failures: int = _f("i", "device losses noticed by the watchdog", 0)
    device: str | None = _f("s", "the output device's name")
    hostapi: str | None = _f("s", "its PortAudio host API")
    uptime_s: float = _f("f", "seconds since the daemon started", 0.0, push=True)
    sample_rate: int = _f("i", "Hz", 48000, push=True)
    block_size: int = _f("i", "frames per callback", 256, push=True)
    # the engine
    renderer: str = _f("s", "the renderer playing", "", push=True)
    segment_index: int = _f("i", "the segment playing", -1, push=True)
    engine_frame: int = _f("i", "frames rendered (the engine's clock)", 0)
    fallbacks: int = _f("i", "segments replaced by the fallback (late or failed renders)", 0)
    transport: str = _f("s", "playing or stopped", "playing", push=True)
    fx: dict[str, float] = _d("master FX settings")
    renderer_params: dict[str, Any] = _d("the renderer's parameters now")
    kuramoto_r: float | None = _f(
        "f", "Kuramoto order parameter r of the bank heard (0 drift .. 1 locked)"
    )
    partials: str = _f(
        "s", "the sound played as the partial layout ('' : the scale)", "", push=True
    )
    partials_count: int | None = _f("i", "partials of the bank heard")
    som_x: float | None = _f("f", "position on the sound's map, x (0..1)")
    som_y: float | None = _f("f", "position on the sound's map, y (0..1)")
    master_gain_db: float = _f("f", "output fader (dB, ≤ 0)", 0.0)
    output_fader: float | None = _f("f", "the fader gain the callback applies now")
    control_latency_ms: float | None = _f("f", "last control: datagram to its first output frame")
    fader_latency_ms: float | None = _f("f", "last /master/gain: datagram to the callback")
    fx_latency_ms: float | None = _f("f", "last /fx/* change: datagram to the callback applying it")
    fx_in_callback: bool = _f("i", "the master post-FX runs in the audio callback", False)
    # the daemon's footprint (a soak watches these: they must not grow)
    rss_mb: float | None = _f("f", "the daemon process's resident memory (MiB)")
    heap_in_use_mb: float | None = _f("f", "C heap handed out and not freed, glibc's count (MiB)")
    heap_free_mb: float | None = _f("f", "C heap free but held by the allocator (MiB)")
    py_blocks: int = _f("i", "Python memory blocks allocated (objects and buffers)", 0)
    heap_trims: int = _f("i", "times the C heap's free pages went back to the system", 0)
    heap_trim_max_ms: float = _f("f", "the longest of those trims (ms, on the loop)", 0.0)
    heap_trimmed_mb: float = _f("f", "resident memory the trims gave back, in all (MiB)", 0.0)
    open_fds: int | None = _f("i", "file descriptors the daemon holds open")
    shm_blocks: int = _f("i", "shared-memory blocks of this daemon in /dev/shm", 0)
    asyncio_tasks: int = _f("i", "tasks on the daemon's event loop", 0)
    disk_errors: int = _f(
        "i", "writes the disk refused (full ...): events.csv, metrics.csv, clips", 0
    )
    disk_failing: str = _f("s", "kinds of file the disk refuses now (empty: none)", "")
    disk_waiting_rows: int = _f("i", "rows kept in memory until the disk takes them", 0)
    disk_dropped_rows: int = _f("i", "rows dropped: more waited than the memory bound", 0)
    # the neural renderer (musicgen; "off" with the DSP renderer)
    neural_state: str = _f(
        "s", "off, loading, ready, generating, failed, missing-weights", "off", push=True
    )
    neural_reason: str = _f(
        "s",
        "why the neural renderer is not playing (missing weights: the command that fetches them)",
        "",
    )
    neural_worker_pid: int | None = _f("i", "the neural worker process")
    neural_restarts: int = _f("i", "neural worker restarts (died, hung or failed to load)", 0)
    neural_rtf: float | None = _f(
        "f", "render time / audio time of the last neural clip", push=True
    )
    neural_first_audio_s: float | None = _f(
        "f", "seconds from request to the first audio of the last clip"
    )
    neural_clips: int = _f("i", "neural clips completed", 0)
    neural_failures: int = _f("i", "neural clips failed (worker died, hung or raised)", 0)
    neural_late: int = _f("i", "of those, clips a Ray deployment dropped at their deadline", 0)
    neural_backend: str = _f("s", "where clips are made: local or ray (musicgen.backend)", "local")
    neural_underruns: int = _f("i", "playing clips that ran dry and crossfaded into the DSP bed", 0)
    neural_clip_seconds: float | None = _f(
        "f", "the clip length asked for now (adapted to the measured speed)"
    )
    neural_blend: dict[str, float] = _d("the adapter blend (config and OSC weights)")
    # the VAE renderer (renderer.name: vae)
    vae_state: str = _f("s", "off, loading, ready or failed", "off", push=True)
    vae_reason: str = _f("s", "why the VAE worker failed", "")
    vae_model: str = _f("s", "the model's folder", "")
    vae_sliders: dict[str, float] = _d("the sliders' values by name")
    vae_blend: str = _f("s", "the blend partner and its weight", "")
    vae_underruns: int = _f("i", "VAE streams that ran dry and crossfaded into the DSP bed", 0)
    vae_restarts: int = _f("i", "VAE worker restarts", 0)
    vae_worker_pid: int | None = _f("i", "the VAE worker process")
    # the jam (jam.enabled): key, chords, beat; MIDI input
    jam_state: str = _f("s", "off, or playing", "off", push=True)
    jam_key: str = _f("s", "the key heard (or locked), e.g. 'G major'", "", push=True)
    jam_key_locked: bool = _f("i", "the key is locked (/jam/key_lock)", False)
    jam_chord: str = _f("s", "the chord playing (lead-sheet symbol)", "", push=True)
    jam_chord_roman: str = _f("s", "the chord playing (Roman numeral in the key)", "")
    jam_next_chord: str = _f("s", "the predicted next chord (thought ahead)", "", push=True)
    jam_tempo_bpm: float | None = _f("f", "the jam's tempo", push=True)
    jam_phase_shifts: int = _f("i", "beat-grid phase corrections to follow Ableton Link", 0)
    jam_meter: int | None = _f("i", "beats per bar")
    jam_beat: int = _f("i", "the beat last rendered (index since the jam started)", -1, push=True)
    jam_style: str = _f("s", "pad, block or arpeggio", "")
    jam_program: int | None = _f("i", "GM program of the chords")
    jam_accompaniment: bool = _f("i", "chords on", False)
    jam_metronome: bool = _f("i", "metronome on", False)
    jam_tempo_follow: bool = _f("i", "tempo follows the player", False)
    jam_fusion_weight: float | None = _f("f", "predictor weight against the Ear")
    jam_notes: int = _f("i", "notes heard from the player", 0)
    jam_chords: int = _f("i", "chords decided", 0)
    jam_decision_us: float | None = _f("f", "the last decision's time: Ear, fusion, voicing (µs)")
    jam_decision_p99_us: float | None = _f("f", "99th percentile of the decisions' times (µs)")
    link_enabled: bool = _f("i", "Ableton Link is on (jam.link and aalink installed)", False)
    link_peers: int = _f("i", "peers in the Link session", 0)
    link_tempo_bpm: float | None = _f("f", "the Link session's tempo")
    link_phase_ms: float | None = _f(
        "f", "the jam's place in its bar minus the Link session's, last measured (ms)"
    )
    midi_ports: str = _f("s", "MIDI inputs open (comma-separated)", "")
    midi_events: int = _f("i", "MIDI events received", 0)
    midi_rejected: int = _f("i", "MIDI messages ignored (malformed, filtered, unsupported)", 0)
    midi_port_losses: int = _f("i", "MIDI input ports lost (all their notes released)", 0)
    midi_dropped: int = _f("i", "MIDI events dropped (nobody reading them)", 0)
    midi_restarts: int = _f("i", "MIDI processes replaced (one died; its notes were released)", 0)
    # the group (group.peers; docs/group.md): changes applied at one beat on every daemon
    group_id: str = _f("s", "this daemon's name in the group (group.id)", "")
    group_peers: int = _f("i", "peers resolved and sent to (group.peers)", 0)
    group_clock: str = _f("s", "how changes are placed: link (the Link beat) or wall (NTP time)",
                          "")  # fmt: skip
    group_sent: int = _f("i", "changes made here and sent to the group", 0)
    group_received: int = _f("i", "changes taken from peers", 0)
    group_applied: int = _f("i", "group changes applied here (sent and received)", 0)
    group_late: int = _f("i", "group changes whose moment had passed: applied at once", 0)
    group_rejected: int = _f(
        "i", "group changes refused (malformed, unknown scene, own, failed)", 0
    )
    group_lag_ms: float | None = _f(
        "f", "the last group change: heard this long after its target moment (ms)"
    )
    # records
    session: str | None = _f("s", "the session's folder name (events.csv)")
    session_t: float = _f("f", "seconds on the session clock", 0.0)
    segment_log_errors: int = _f("i", "segments whose metrics row failed", 0)
    metrics_pool_restarts: int = _f("i", "metrics worker processes replaced", 0)
    # the service (SIGHUP, systemd's watchdog)
    config_reloads: int = _f("i", "configuration reloads applied (SIGHUP)", 0)
    config_reload_rejected: int = _f("i", "configuration reloads rejected (bad file: old kept)", 0)
    watchdog_pings: int = _f("i", "WATCHDOG=1 pings sent to systemd (healthy audio path)", 0)
    # semantic prompt search (/prompt/search)
    search_state: str = _f("s", "off, idle, loading, ready, failed or closed", "off", push=True)
    search_reason: str = _f("s", "why search is off", "")
    search_cold_start_s: float | None = _f("f", "worker start to ready (model + bank embedded)")
    search_cached: bool | None = _f("i", "the bank's embeddings came from the cache")
    search_queries: int = _f("i", "searches answered", 0)
    search_p50_ms: float | None = _f("f", "median query round trip (ms)")
    search_p99_ms: float | None = _f("f", "99th percentile query round trip (ms)")
    # the sound library (/library/search, /library/similar)
    library_state: str = _f("s", "off, idle (not opened yet), ready or failed", "off")
    library_reason: str = _f("s", "why the library is off or failed", "")
    library_entries: int | None = _f("i", "entries in the library (as of the last query)")
    library_queries: int = _f("i", "library searches answered", 0)
    library_p50_ms: float | None = _f("f", "median library query time off the loop (ms)")
    # the soundscape layers (layers.enabled or renderer.name: layers)
    layers: str = _f("s", "the four layers' file names, comma-separated ('' : an empty layer)", "")
    layers_vibe: str = _f("s", "the vibe of the last mix built ('' : none)", "")
    layers_changes: int = _f("i", "layer changes (each one a crossfade) since the start", 0)
    # emotion and scenes
    scene: str = _f("s", "the scene recalled ('' : none)", "", push=True)
    emotion: str = _f("s", "the last emotion taken ('' : none)", "", push=True)
    emotion_confidence: float | None = _f("f", "its confidence")
    steer: str = _f("s", "who picks the category now: hr, scene NAME or emotion LABEL", "hr")
    # the session protocol (control/protocol_runner.py)
    protocol: str = _f("s", "the protocol playing ('' : none)", "", push=True)
    protocol_stage: str = _f("s", "its stage playing", "", push=True)
    protocol_stage_index: int = _f("i", "the stage's place in the protocol (from 0; -1: none)", -1)
    protocol_stage_s: float | None = _f("f", "seconds since the stage began")
    protocol_listener: str = _f("s", "the listener's id the protocol records", "")
    # heart rate, state, prompts
    state: str = _f("s", "neutral, stress or underaroused", "neutral", push=True)
    state_forced: bool = _f("i", "the state is forced (/state/force)", False)
    calibrating: bool = _f("i", "the baseline is being calibrated", False)
    bpm: float | None = _f("f", "last accepted heart rate", push=True)
    baseline_bpm: float | None = _f("f", "the baseline", push=True)
    hr_accepted: int = _f("i", "heart-rate samples accepted", 0)
    hr_rejected: int = _f("i", "heart-rate samples rejected (artifacts, range, time)", 0)
    hr_contact: bool | None = _f("i", "the sensor's skin contact (/hr/contact, BLE)")
    hrv_rmssd_ms: float | None = _f("f", "RMSSD of the RR window (ms)", push=True)
    hrv_sdnn_ms: float | None = _f("f", "SDNN of the RR window (ms)", push=True)
    hrv_pnn50: float | None = _f("f", "pNN50 of the RR window (%)")
    hrv_mean_hr: float | None = _f("f", "mean HR of the RR window (60000 / mean NN)")
    hrv_beats: int = _f("i", "accepted beats in the RR window", 0)
    hrv_rejected: int = _f("i", "artifact/ectopic beats rejected in the RR window", 0)
    ble_state: str = _f("s", "BLE sensor: off, scanning, connecting, connected, no_contact, lost",
                        "off", push=True)  # fmt: skip
    ble_device: str = _f("s", "the BLE sensor's name and address", "")
    ble_battery: int | None = _f("i", "the BLE sensor's battery level (%)")
    ble_samples: int = _f("i", "heart-rate notifications received over BLE", 0)
    ble_malformed: int = _f("i", "BLE notifications that could not be parsed", 0)
    ble_reconnects: int = _f("i", "BLE reconnections", 0)
    ble_contact: bool | None = _f("i", "skin contact reported by the BLE sensor")
    prompt: str = _f("s", "the playing segment's prompt id", "", push=True)
    category: str = _f("s", "its category", "")
    # OSC
    osc_received: int = _f("i", "datagrams received", 0)
    osc_handled: int = _f("i", "messages handled", 0)
    osc_dropped: int = _f("i", "messages or datagrams rejected", 0, push=True)
    osc_scheduled: int = _f("i", "timetagged messages queued so far", 0)
    osc_scheduled_waiting: int = _f("i", "timetagged messages waiting now", 0)
    osc_coalesced: int = _f(
        "i", "set-a-value messages superseded by a later one in the same receive batch", 0
    )
    osc_batches: int = _f("i", "socket wake-ups that drained datagrams", 0)
    osc_batch_max: int = _f("i", "most datagrams drained in one wake-up", 0)
    osc_receiver: str = _f("s", "how the socket is read: recvmmsg (batches) or recvfrom", "")
    osc_rejections: dict[str, int] = _d("rejections by reason (a fixed set of reasons)")

    @classmethod
    def from_parts(cls, *parts: dict[str, Any]) -> Status:
        """A record from the figures of each layer; an unknown figure is a bug, not a field."""
        merged: dict[str, Any] = {}
        for part in parts:
            merged.update(part)
        unknown = sorted(set(merged) - FIELD_NAMES)
        if unknown:
            raise KeyError(f"not status fields: {', '.join(unknown)}")
        return cls(**merged)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FIELDS = dataclasses.fields(Status)
FIELD_NAMES = frozenset(f.name for f in FIELDS)

#: the per-field status messages (/status/<field>) and their OSC types
STATUS_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (f.name, f.metadata["osc"]) for f in FIELDS if f.metadata["push"]
)


def field_messages(status: Status) -> list[tuple[str, Any]]:
    """(address, value) for each pushed field."""
    out: list[tuple[str, Any]] = []
    for name, kind in STATUS_FIELDS:
        value = getattr(status, name)
        if kind == "s":
            out.append((f"/status/{name}", "" if value is None else str(value)))
        elif kind == "f":
            out.append((f"/status/{name}", 0.0 if value is None else float(value)))
        else:
            out.append((f"/status/{name}", 0 if value is None else int(value)))
    return out


def docs_table() -> list[str]:
    """The status fields as a Markdown table (for docs/osc.md)."""
    lines = ["| field | type | pushed | meaning |", "|---|---|---|---|"]
    for f in FIELDS:
        pushed = "yes" if f.metadata["push"] else ""
        lines.append(f"| `{f.name}` | {f.metadata['osc']} | {pushed} | {f.metadata['doc']} |")
    return lines
