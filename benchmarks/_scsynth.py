"""SuperCollider's scsynth as a reference: N summed SinOsc rendered in NRT mode.

No sclang and no extra package: the SynthDef (file format version 2) and the
non-real-time OSC score are written here byte by byte. scsynth ``-N`` renders
the score to a sound file as fast as it can on one thread, so its wall time is
its cost. Boot and SynthDef loading are cancelled out by rendering two
durations and dividing the difference in wall time by the difference in
audio time.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

AUDIO, SCALAR = 2, 0
ADD, MUL = 0, 2  # BinaryOpUGen special indices


def _pstring(s: str) -> bytes:
    b = s.encode("ascii")
    return struct.pack(">B", len(b)) + b


class _Graph:
    """A flat UGen graph in topological order (inputs always precede their users)."""

    def __init__(self) -> None:
        self.constants: list[float] = []
        self._const_index: dict[float, int] = {}
        self.ugens: list[bytes] = []

    def const(self, x: float) -> tuple[int, int]:
        if x not in self._const_index:
            self._const_index[x] = len(self.constants)
            self.constants.append(x)
        return (-1, self._const_index[x])

    def ugen(
        self,
        name: str,
        inputs: Sequence[tuple[int, int]],
        outputs: int = 1,
        special: int = 0,
        rate: int = AUDIO,
    ) -> tuple[int, int]:
        spec = _pstring(name) + struct.pack(">biih", rate, len(inputs), outputs, special)
        spec += b"".join(struct.pack(">ii", u, o) for u, o in inputs)
        spec += struct.pack(">b", rate) * outputs
        self.ugens.append(spec)
        return (len(self.ugens) - 1, 0)


def sine_bank_synthdef(name: str, freqs: Sequence[float], gain: float) -> bytes:
    """SCgf v2 bytes of ``Out.ar(0, gain * Σ SinOsc.ar(fᵢ))``.

    The sum is a running chain of Sum4 (as sclang's ``Mix`` builds), each
    SinOsc placed just before the Sum4 that reads it, so few wire buffers are
    live at once.
    """
    g = _Graph()
    zero = g.const(0.0)
    pending = [g.ugen("SinOsc", [g.const(float(f)), zero]) for f in freqs[:4]]
    acc = g.ugen("Sum4", pending) if len(pending) == 4 else pending[0]
    if len(pending) != 4:  # fewer than four partials: add them up pairwise
        for p in pending[1:]:
            acc = g.ugen("BinaryOpUGen", [acc, p], special=ADD)
    rest = list(freqs[4:])
    while rest:
        group, rest = rest[:3], rest[3:]
        sines = [g.ugen("SinOsc", [g.const(float(f)), zero]) for f in group]
        kind = {3: "Sum4", 2: "Sum3"}.get(len(sines))
        if kind is None:
            acc = g.ugen("BinaryOpUGen", [acc, sines[0]], special=ADD)
        else:
            acc = g.ugen(kind, [acc, *sines])
    out = g.ugen("BinaryOpUGen", [acc, g.const(float(gain))], special=MUL)
    g.ugen("Out", [zero, out], outputs=0)

    body = _pstring(name)
    body += struct.pack(">i", len(g.constants))
    body += b"".join(struct.pack(">f", c) for c in g.constants)
    body += struct.pack(">ii", 0, 0)  # no parameters, no parameter names
    body += struct.pack(">i", len(g.ugens)) + b"".join(g.ugens)
    body += struct.pack(">h", 0)  # no variants
    return b"SCgf" + struct.pack(">ih", 2, 1) + body


# ------------------------------------------------------------------------- OSC
def _osc_pad(b: bytes) -> bytes:
    return b + b"\0" * (4 - len(b) % 4)  # always at least one NUL


def osc_message(address: str, *args: int | float | str | bytes) -> bytes:
    tags, data = ",", b""
    for a in args:
        if isinstance(a, bool) or not isinstance(a, int | float | str | bytes):
            raise TypeError(f"unsupported OSC argument {a!r}")
        if isinstance(a, int):
            tags, data = tags + "i", data + struct.pack(">i", a)
        elif isinstance(a, float):
            tags, data = tags + "f", data + struct.pack(">f", a)
        elif isinstance(a, str):
            tags, data = tags + "s", data + _osc_pad(a.encode("ascii"))
        else:
            padded = a + b"\0" * (-len(a) % 4)
            tags, data = tags + "b", data + struct.pack(">i", len(a)) + padded
    return _osc_pad(address.encode("ascii")) + _osc_pad(tags.encode("ascii")) + data


def osc_bundle(seconds: float, *messages: bytes) -> bytes:
    whole = int(seconds)
    frac = int((seconds - whole) * (1 << 32))
    out = b"#bundle\0" + struct.pack(">II", whole, frac)
    return out + b"".join(struct.pack(">i", len(m)) + m for m in messages)


def nrt_score(synthdef: bytes, name: str, seconds: float) -> bytes:
    """A score: load the def, start one synth at 0, end at ``seconds``."""
    bundles = [
        osc_bundle(0.0, osc_message("/d_recv", synthdef)),
        osc_bundle(0.0, osc_message("/s_new", name, 1000, 0, 0)),
        osc_bundle(seconds, osc_message("/c_set", 0, 0)),  # marks the end of the score
    ]
    return b"".join(struct.pack(">i", len(b)) + b for b in bundles)


# ---------------------------------------------------------------------- render
def scsynth_path() -> str | None:
    return shutil.which("scsynth")


def render_seconds(
    scsynth: str, freqs: Sequence[float], seconds: float, sample_rate: int, workdir: Path
) -> float:
    """Wall time of one NRT render of ``seconds`` of the bank (includes boot)."""
    name = f"bench_sines_{len(freqs)}"
    gain = 0.5 / max(1.0, len(freqs) ** 0.5)
    score = workdir / f"{name}_{seconds:g}.osc"
    score.write_bytes(nrt_score(sine_bank_synthdef(name, freqs, gain), name, seconds))
    wav = workdir / f"{name}.wav"
    cmd = [
        scsynth,
        "-N", str(score), "_", str(wav), str(sample_rate), "WAV", "int16",
        "-o", "1", "-i", "0",
        "-m", "262144",  # real-time pool, KB: room for thousands of UGens
        "-w", "256",  # wire buffers
        "-D", "0",  # do not load the default SynthDef directory
    ]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not wav.exists() or wav.stat().st_size < 1000:
        tail = (proc.stdout + proc.stderr)[-500:]
        raise RuntimeError(f"scsynth NRT failed (rc {proc.returncode}): {tail}")
    return wall


def scsynth_rtf(
    freqs: Sequence[float], seconds: float, sample_rate: int, repeats: int = 3
) -> dict[str, float | str | None]:
    """Real-time factor of N summed SinOsc in scsynth NRT, start-up cancelled out.

    Returns ``{"rtf": ..., "boot_s": ...}`` or ``{"rtf": None, "skipped": why}``.
    """
    exe = scsynth_path()
    if exe is None:
        return {"rtf": None, "skipped": "scsynth not found on PATH"}
    short = min(0.5, seconds / 4)
    try:
        with tempfile.TemporaryDirectory(prefix="bench_scsynth_") as tmp:
            work = Path(tmp)
            t_short = min(
                render_seconds(exe, freqs, short, sample_rate, work) for _ in range(repeats)
            )
            t_long = min(
                render_seconds(exe, freqs, seconds, sample_rate, work) for _ in range(repeats)
            )
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        return {"rtf": None, "skipped": f"scsynth failed: {e}"}
    rtf = max(t_long - t_short, 0.0) / (seconds - short)
    boot = max(t_short - rtf * short, 0.0)
    return {"rtf": rtf, "boot_s": boot, "wall_long_s": t_long, "wall_short_s": t_short}
