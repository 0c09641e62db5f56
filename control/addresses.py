"""The OSC address table: the single source of truth for the daemon's control surface.

Each entry names an address, its arguments (type, range or choices, unit),
its help text and the controller method that handles it. Validation, the
``/help`` reply, ``docs/osc.md`` (``python -m bassd.control.addresses``) and
the patches are all generated from this table.

Argument types on the wire: ``f`` accepts OSC ints and floats (Max sends
ints), ``i`` accepts ints and integral floats (TouchOSC sends floats), ``s``
accepts strings. Values outside the range are rejected, never clamped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bassd.control.osc_codec import OscError
from bassd.control.osc_reasons import Reason
from bassd.dsp.bank_params import param_range
from bassd.dsp.scales import KEYS, MODES

STATES = ("neutral", "stress", "underaroused")
JAM_STYLES = ("pad", "block", "arpeggio")  # dsp/accomp_styles.STYLES (a test pins it)


@dataclass(frozen=True)
class Arg:
    name: str
    type: str  # "f" | "i" | "s"
    unit: str = ""
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] | None = None
    optional: bool = False
    repeat: int = 1  # >1: this argument may appear 1..repeat times (last argument only)
    max_len: int = 200

    def describe(self) -> str:
        if self.choices:
            rng = "|".join(self.choices)
        elif self.lo is not None and self.hi is not None:
            rng = f"{self.lo:g}..{self.hi:g}"
        else:
            rng = ""
        unit = f" {self.unit}" if self.unit else ""
        many = f" ×1..{self.repeat}" if self.repeat > 1 else ""
        opt = "optional " if self.optional else ""
        return f"{opt}{self.name} ({self.type}{many}{': ' + rng if rng else ''}{unit})".strip()

    def convert(self, tag: str, value: Any, address: str) -> Any:
        if self.type == "f":
            if tag not in "ifhd":
                raise OscError(f"{self.name}: expected a number, got type '{tag}'", Reason.BAD_TYPE)
            v = float(value)
            if not math.isfinite(v):
                raise OscError(f"{self.name}: not a finite number", Reason.OUT_OF_RANGE)
        elif self.type == "i":
            integral = tag in "fd" and math.isfinite(value) and float(value).is_integer()
            if tag in "ih" or integral:
                v = int(value)
            else:
                raise OscError(
                    f"{self.name}: expected an integer, got type '{tag}'", Reason.BAD_TYPE
                )
        else:
            if tag not in "sS":
                raise OscError(f"{self.name}: expected a string, got type '{tag}'", Reason.BAD_TYPE)
            if len(value) > self.max_len:
                raise OscError(
                    f"{self.name}: longer than {self.max_len} characters", Reason.TOO_LONG
                )
            if self.choices and value not in self.choices:
                raise OscError(
                    f"{self.name}: {value!r} is not one of {'|'.join(self.choices)}",
                    Reason.BAD_CHOICE,
                )
            return value
        if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
            unit = f" {self.unit}" if self.unit else ""
            raise OscError(
                f"{self.name}: {v:g} out of range {self.lo:g}..{self.hi:g}{unit}",
                Reason.OUT_OF_RANGE,
            )
        return v


@dataclass(frozen=True)
class Address:
    path: str
    handler: str
    help: str
    args: tuple[Arg, ...] = ()
    group: str = "control"
    changes_state: bool = True  # needs the shared secret when one is configured
    debug: bool = False  # only with debug.fault_injection
    peer: bool = False  # sent by another bassd of the group, not a performer: not in the patches

    @property
    def signature(self) -> str:
        return " ".join(a.describe() for a in self.args) or "(no arguments)"

    @property
    def min_args(self) -> int:
        return sum(1 for a in self.args if not a.optional)

    @property
    def max_args(self) -> int:
        return sum(a.repeat for a in self.args)

    def validate(self, tags: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """Typed, range-checked values, or OscError with the reason."""
        n = len(args)
        if not self.min_args <= n <= self.max_args:
            want = (
                str(self.min_args)
                if self.min_args == self.max_args
                else f"{self.min_args}..{self.max_args}"
            )
            raise OscError(f"takes {want} argument(s), got {n}", Reason.BAD_ARITY)
        out = []
        specs = list(self.args)
        for i, (tag, value) in enumerate(zip(tags, args, strict=True)):
            spec = specs[min(i, len(specs) - 1)]
            out.append(spec.convert(tag, value, self.path))
        return tuple(out)


F, I, S = "f", "i", "s"

TABLE: tuple[Address, ...] = (
    # heart rate
    Address("/hr/bpm", "hr_bpm", "One heart-rate sample (a BLE bridge or any source, ~1 Hz). "
            "Physiologically impossible values and jumps are logged as rejected samples.",
            (Arg("bpm", F, "bpm", 0, 400),), "heart rate"),
    Address("/hr/rr", "hr_rr", "RR intervals since the last message, in milliseconds.",
            (Arg("rr", F, "ms", 100, 4000, repeat=16),), "heart rate"),
    Address("/hr/contact", "hr_contact", "Sensor skin contact (a BLE bridge): 1 detected, 0 "
            "not detected; only from sensors that report contact.",
            (Arg("contact", I, "", 0, 1),), "heart rate"),
    Address("/state/force", "state_force", "Force the listener state (overrides the heart-rate rules).",
            (Arg("state", S, choices=STATES),), "heart rate"),
    Address("/state/auto", "state_auto", "Back to the heart-rate rules.", (), "heart rate"),
    Address("/baseline/start", "baseline_start", "Start a baseline calibration (median of the samples).",
            (Arg("seconds", F, "s", 10, 1800, optional=True),), "heart rate"),
    Address("/baseline/set", "baseline_set", "Set the baseline heart rate explicitly.",
            (Arg("bpm", F, "bpm", 30, 220),), "heart rate"),
    # session protocols (docs/protocols.md)
    Address("/session/start", "session_start", "Start a session protocol by name (protocol.dir, "
            "else the shipped ones: bass_4stage, aba_adaptive_fixed, demo); its stages follow "
            "on the session clock, the known baseline is kept (else its first stage "
            "calibrates); one playing stops first.", (Arg("protocol", S, max_len=64),),
            "session protocols"),
    Address("/session/stop", "session_stop", "End the protocol here; the session plays on, "
            "steered by heart rate.", (), "session protocols"),
    # emotion and scenes
    Address("/emotion", "emotion", "An emotion from any source (label, confidence): mapped to a "
            "prompt category and renderer parameters (emotion.table), crossfaded; ignored below "
            "emotion.min_confidence; emotion.precedence says how it meets the HR state.",
            (Arg("label", S, max_len=32), Arg("confidence", F, "", 0, 1)), "steering"),
    Address("/scene", "scene", "Recall a scene (zen, focus, energise, sleep or your own; off: "
            "none) with its crossfade: category, renderer parameters, FX, tempo, adapters.",
            (Arg("name", S, max_len=64),), "steering"),
    Address("/scene/surprise", "scene_surprise", "A coherent random scene (seeded by "
            "scenes.seed), not the one playing.", (), "steering"),
    # soundscape layers (layers.enabled, renderer.name: layers; docs/library.md)
    Address("/layers/mix", "layers_mix", "Build a coherent four-layer mix for a vibe (zen, "
            "focus, energise, sleep or your own: configs/vibes.yaml) from the sound library, "
            "seeded (layers.seed); each layer crossfades to its pick.",
            (Arg("vibe", S, max_len=64),), "layers"),
    *(Address(f"/layers/{n}/file", "layers_file", f"Crossfade layer {n} to a library entry "
              "(its id or path), looped seamlessly.", (Arg("ref", S, max_len=1024),), "layers")
      for n in range(1, 5)),
    *(Address(f"/layers/{n}/gain", "layers_gain", f"Layer {n}'s gain (fades over "
              "layers.crossfade_seconds; the drift wanders around it).",
              (Arg("gain", F, "dB", -60, 12),), "layers") for n in range(1, 5)),
    *(Address(f"/layers/{n}/pan", "layers_pan", f"Layer {n}'s pan (-1 left .. 1 right), glided.",
              (Arg("pan", F, "", -1, 1),), "layers") for n in range(1, 5)),
    *(Address(f"/layers/{n}/filter", "layers_filter", f"Layer {n}'s low-pass cut-off (the "
              "drift wanders around it).", (Arg("cutoff", F, "Hz", 20, 20000),), "layers")
      for n in range(1, 5)),
    *(Address(f"/layers/{n}/mute", "layers_mute", f"Mute layer {n} (1) or not (0): a fade.",
              (Arg("mute", I, "", 0, 1),), "layers") for n in range(1, 5)),
    # the group (group.peers): /scene, /scene/surprise, /state/force and /state/auto fan out
    Address("/group/apply", "group_apply", "A change from another daemon of the group, sent "
            "by bassd itself (docs/group.md): apply ADDRESS (/scene, /state/force or "
            "/state/auto) with VALUE at the origin's Link beat BEAT (SENT: its beat when it "
            "sent it; clock link) or at unix time AT (clock wall: no Link, NTP time); the "
            "three numbers go as OSC doubles. Never sent on; a past moment is applied at once "
            "and counted late.",
            (Arg("origin", S, max_len=64), Arg("clock", S, choices=("link", "wall")),
             Arg("at", F, "s"), Arg("beat", F, "beats"), Arg("sent", F, "beats"),
             Arg("address", S, max_len=32), Arg("value", S, optional=True, max_len=64)),
            "group", peer=True),
    # prompts
    Address("/prompt/set", "prompt_set", "Use this prompt (by id) for the next segment.",
            (Arg("id", S, max_len=64),), "prompts"),
    Address("/prompt/next", "prompt_next", "Next prompt of the current state's category, now.",
            (), "prompts"),
    Address("/prompt/text", "prompt_text", "Free text for a one-off segment (the DSP renderer "
            "reads mood and tempo words from it).", (Arg("text", S, max_len=500),), "prompts"),
    Address("/prompt/search", "prompt_search", "Semantic search of the bank (all-MiniLM-L6-v2): "
            "the nearest prompt plays next (below search.threshold: the text itself, mapped "
            "from its neighbours); answers /prompt/results with ids and scores.",
            (Arg("text", S, max_len=500),), "prompts"),
    # the sound library (bassd library add; docs/library.md): queries, answered off the loop
    Address("/library/search", "library_search", "Search the sound library (bassd library "
            "add) by text: file names, tags and sound words, embedded with the search model "
            "(words only while it loads, or without it); answers /library/results with id (i), "
            "score (f), path (s) per entry, best first.",
            (Arg("text", S, max_len=500),), "prompts"),
    Address("/library/similar", "library_similar", "The library entries that sound most like "
            "an entry (its id or path) or any audio file (a path); answers /library/results.",
            (Arg("ref", S, max_len=1024),), "prompts"),
    Address("/prompt/bank", "prompt_bank", "Load a prompt bank file (.json or .csv) from the "
            "configured prompts folder.", (Arg("file", S, max_len=128),), "prompts"),
    # mix and FX
    Address("/master/gain", "master_gain", "Output fader after the limiter (≤ 0 dB, so the peak "
            "guarantee holds); the audio callback applies it within one period.",
            (Arg("gain", F, "dB", -60, 0),), "mix and FX"),
    Address("/fx/hpf", "fx_hpf", "High-pass cut-off.", (Arg("hz", F, "Hz", 10, 2000),), "mix and FX"),
    Address("/fx/lpf", "fx_lpf", "Low-pass cut-off.", (Arg("hz", F, "Hz", 1000, 20000),),
            "mix and FX"),
    Address("/fx/drive", "fx_drive", "Limiter drive (tanh).", (Arg("drive", F, "", 0.1, 10),),
            "mix and FX"),
    Address("/fx/peak", "fx_peak", "Limiter peak target.", (Arg("peak", F, "FS", 0.05, 1.0),),
            "mix and FX"),
    # timeline
    Address("/segment/length", "segment_length", "Segment length (applies to the playing segment).",
            (Arg("seconds", F, "s", 2, 600),), "timeline"),
    Address("/crossfade", "crossfade", "Crossfade length between segments (≤ half a segment).",
            (Arg("seconds", F, "s", 0, 30),), "timeline"),
    Address("/segment/skip", "segment_skip", "Start the next segment now (with its crossfade).",
            (), "timeline"),
    # renderer
    Address("/renderer/coupling", "renderer_coupling", "Kuramoto coupling K in units of the "
            "critical coupling: < 1 shimmering, > 1 locked chord. Live.",
            (Arg("k", F, "K/Kc", *param_range("coupling")),), "renderer"),
    Address("/renderer/brightness", "renderer_brightness", "Spectral tilt, 0 dark .. 1 bright. Live.",
            (Arg("brightness", F, "", *param_range("brightness")),), "renderer"),
    Address("/renderer/width", "renderer_width", "Stereo width. Live.", (Arg("width", F, "", *param_range("width")),),
            "renderer"),
    Address("/renderer/density", "renderer_density", "Number of partials (crossfades to a new bank).",
            (Arg("partials", I, "", *param_range("density")),), "renderer"),
    Address("/renderer/key", "renderer_key", "Key (crossfades to a new bank).",
            (Arg("key", S, choices=KEYS),), "renderer"),
    Address("/renderer/mode", "renderer_mode", "Mode (crossfades to a new bank).",
            (Arg("mode", S, choices=tuple(MODES)),), "renderer"),
    Address("/renderer/tempo", "renderer_tempo", "Pulse and harmonic rhythm (crossfades to a new bank).",
            (Arg("bpm", F, "bpm", *param_range("tempo_bpm")),), "renderer"),
    # the user's sounds (bassd analyse) and their self-organising maps
    Address("/renderer/partials", "renderer_partials", "Play a sound (a bassd analyse folder, by "
            "name in renderer.sounds_dir or the shipped sounds) as the partial layout; off: the "
            "scale. Loaded off the loop, then crossfaded to a new bank.",
            (Arg("name", S, max_len=128),), "sounds"),
    Address("/renderer/partials_snap", "renderer_partials_snap", "Snap the sound's partials to "
            "the session's key and mode (key) or not (off); crossfades to a new bank.",
            (Arg("snap", S, choices=("off", "key")),), "sounds"),
    Address("/renderer/transpose", "renderer_transpose", "Transpose the sound's partials "
            "(crossfades to a new bank).",
            (Arg("semitones", F, "st", *param_range("partials_transpose")),), "sounds"),
    Address("/som/xy", "som_xy", "Move on the playing sound's map (an XY pad: TouchOSC XY, Max "
            "pictslider, Pd grid): its partials glide to the neighbouring nodes' interpolated "
            "state within ~30 ms, click-free at any speed. Live.",
            (Arg("x", F, "", 0, 1), Arg("y", F, "", 0, 1)), "sounds"),
    # neural renderer: LoRA adapters blended in weight space (musicgen only)
    Address("/adapter/blend", "adapter_blend", "Blend weight of a LoRA adapter (by name) from the "
            "next clip on; 0 and negative weights allowed (musicgen renderer).",
            (Arg("name", S, max_len=128), Arg("weight", F, "", -4, 4)), "adapters"),
    Address("/adapter/clear", "adapter_clear", "Drop the weights set over OSC: back to the "
            "configured blend (musicgen renderer).", (), "adapters"),
    # the VAE renderer (renderer.name: vae): a model trained on your own files
    *(Address(f"/vae/slider/{n}", "vae_slider", f"Slider {n} of the VAE model (0..1, 0.5 its "
              "centre; names: bassd vae sliders MODEL); glides in from the next chunk.",
              (Arg("value", F, "", 0, 1),), "vae") for n in range(1, 9)),
    Address("/vae/preset", "vae_preset", "Recall a preset of the model (bassd vae preset save): "
            "its sliders glide to it.", (Arg("preset", S, max_len=64),), "vae"),
    Address("/vae/preset/save", "vae_preset_save", "Save the sliders now as a preset of the model.",
            (Arg("preset", S, max_len=64),), "vae"),
    Address("/vae/blend", "vae_blend", "Mix a second model of the library in (by name; weight 0: "
            "off), in the log-mel domain from the next chunk.",
            (Arg("model", S, max_len=64), Arg("weight", F, "", 0, 1)), "vae"),
    # the jam: the keyboard accompanist and its metronome (jam.enabled)
    Address("/jam/accompaniment", "jam_accompaniment", "Accompaniment chords on (1) or off (0) "
            "from the next bar.", (Arg("on", I, "", 0, 1),), "jam"),
    Address("/jam/style", "jam_style", "Accompaniment style from the next chord.",
            (Arg("style", S, choices=JAM_STYLES),), "jam"),
    Address("/jam/program", "jam_program", "GM program (instrument) of the chords.",
            (Arg("program", I, "", 0, 127),), "jam"),
    Address("/jam/level", "jam_level", "Accompaniment level against the segment bed.",
            (Arg("db", F, "dB", -60, 12),), "jam"),
    Address("/jam/fusion", "jam_fusion", "Weight of the chord predictor against the Ear "
            "(0: the Ear alone, 1: the predictor alone).", (Arg("weight", F, "", 0, 1),), "jam"),
    Address("/jam/tempo", "jam_tempo", "Tempo from the next bar.", (Arg("bpm", F, "bpm", 20, 300),),
            "jam"),
    Address("/jam/meter", "jam_meter", "Beats per bar from the next bar line.",
            (Arg("beats", I, "", 1, 16),), "jam"),
    Address("/jam/metronome", "jam_metronome", "Metronome on (1) or off (0).",
            (Arg("on", I, "", 0, 1),), "jam"),
    Address("/jam/metronome/level", "jam_metronome_level", "Metronome click level (peak).",
            (Arg("db", F, "dBFS", -60, 0),), "jam"),
    Address("/jam/key_lock", "jam_key_lock", "Play in this key whatever is heard ('G major', "
            "'Gmaj', 'Em', 'F#m', 'Bb'); 'off' follows the detected key again.",
            (Arg("key", S, max_len=16),), "jam"),
    Address("/jam/tempo_follow", "jam_tempo_follow", "Follow the player's tempo (1) or keep "
            "the set tempo (0).", (Arg("on", I, "", 0, 1),), "jam"),
    Address("/jam/panic", "jam_panic", "All notes off: silence the accompaniment and forget "
            "the held notes.", (), "jam"),
    # transport
    Address("/transport/start", "transport_start", "Resume the timeline with a fade-in.",
            (Arg("fade", F, "s", 0, 10, optional=True),), "transport"),
    Address("/transport/stop", "transport_stop", "Fade out and pause the timeline.",
            (Arg("fade", F, "s", 0, 10, optional=True),), "transport"),
    # queries
    Address("/status", "status", "Reply /status/json (one JSON object) and one /status/<field> "
            "message per field.", (), "queries", changes_state=False),
    Address("/help", "help", "Reply /help/address (address, arguments, help) per address.", (),
            "queries", changes_state=False),
    Address("/subscribe", "subscribe", "Push /status/<field> messages at osc.push_hz to this host "
            "(on the given port, else the reply port) until /unsubscribe or osc.subscription_seconds.",
            (Arg("port", I, "", 1, 65535, optional=True),), "queries", changes_state=False),
    Address("/unsubscribe", "unsubscribe", "Stop pushes to this host (and port).",
            (Arg("port", I, "", 1, 65535, optional=True),), "queries", changes_state=False),
    Address("/debug/fail_callback", "debug_fail_callback", "Make the next audio callback abort "
            "(watchdog tests; only with debug.fault_injection).", (), "debug", debug=True),
    Address("/debug/fail_task", "debug_fail_task", "Make the daemon's heart-rate task fail "
            "(exit-code tests; only with debug.fault_injection).", (), "debug", debug=True),
)  # fmt: skip

BY_PATH: dict[str, Address] = {a.path: a for a in TABLE}


def render_markdown() -> str:
    """docs/osc.md, generated from the table."""
    lines = [
        "# OSC address space",
        "",
        "Generated from `control/addresses.py` by `python -m bassd.control.addresses`; "
        "a test fails when this file is stale.",
        "",
        "The daemon listens on 127.0.0.1:8000 and replies to the sender's host on port 9000 "
        "(TouchOSC's defaults; `osc.port`, `osc.reply_port`). A rejected message is counted "
        "(`osc_dropped`), logged (rate-limited) and answered with `/error s s` "
        "(address, reason).",
        "",
        "Types: `f` accepts OSC ints and floats; `i` accepts ints and integral floats; "
        "`s` strings. With `osc.secret` set, every message marked *secret* must carry the "
        "secret as one extra, last string argument (Max: `[append mysecret]`; TouchOSC: add a "
        "constant string argument to the control's message).",
        "",
    ]
    group = None
    for a in TABLE:
        if a.group != group:
            group = a.group
            lines += [f"## {group}", "", "| address | arguments | secret | what it does |",
                      "|---|---|---|---|"]  # fmt: skip
        secret = "yes" if a.changes_state else ""
        lines.append(f"| `{a.path}` | {a.signature} | {secret} | {a.help} |")
        if a is TABLE[-1] or TABLE[TABLE.index(a) + 1].group != group:
            lines.append("")
    lines += [
        "## replies",
        "",
        "| address | arguments |",
        "|---|---|",
        "| `/status/json` | one JSON object string with every status field |",
        "| `/status/<field>` | one message per field (`s`, `f` or `i`), for a TouchOSC label "
        "or a Max `[route]` |",
        "| `/help/address` | address, argument signature, help text |",
        "| `/error` | address, reason |",
        "",
        "## status fields",
        "",
        "`/status/json` carries every field; *pushed* fields also come one message each as "
        "`/status/<field>` (and to `/subscribe`rs). Health: `dry_callbacks` and `late_pumps` "
        "are the engine's own failures (0 on a healthy daemon); `server_xruns` are the sound "
        "server's (JACK's dummy driver overruns on its own on a busy machine).",
        "",
    ]
    from bassd.control.status import docs_table

    lines += [*docs_table(), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown(), end="")
