"""``bassd listen prepare``: a blind test's stimuli, trials and key, from renders or sessions.

Every stimulus is cut to the same length with raised-cosine fades, written as a 48 kHz
24-bit stereo WAV named by a random token, and brought to one integrated loudness
(BS.1770, :func:`bassd.dsp.metrics.integrated_loudness`) so loudness does not decide. When a
gain would push a stimulus's true peak (4× oversampled, BS.1770 annex 2) over the ceiling,
the common target is lowered for all of them, and the lowering is reported. After writing,
every file is read back and measured: all must lie within ±0.5 LU of the target.

The folder it writes::

    stimuli/<token>.wav   served to listeners (names blinded)
    trials.json           the trials, by token only (served)
    key.json              token -> condition, item, source (never served)
    loudness.json         the read-back loudness and true peak of every stimulus
    renders/              the full renders a SPEC asked for (never served)
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr
import structlog

from bassd.app.listen_design import SCALES, Design

log = structlog.get_logger("bassd.listen")

SAMPLE_RATE = 48000
TOLERANCE_LU = 0.5
SEGMENT_CLIP = re.compile(r"^(?P<session>.+)_seg(?P<index>\d{4,})$")


class PrepareError(ValueError):
    """A problem preparing a test, one line naming the file, condition or item."""


@dataclass(frozen=True)
class Source:
    """Where one (condition, item) stimulus comes from: ``seconds`` of ``path`` at
    ``start_s``."""

    path: Path
    start_s: float


@dataclass
class Plan:
    """What to cut: a source per (condition, item), and the trials to build."""

    name: str
    conditions: list[str]
    items: list[str]
    sources: dict[tuple[str, str], Source]
    seconds: float
    fade_ms: float = 50.0
    target_lufs: float = -23.0
    true_peak_ceiling_db: float = -1.0
    seed: int = 0
    pairs: list[tuple[str, str]] = field(default_factory=list)
    reference: str | None = None  # the MUSHRA reference condition (None: no MUSHRA)
    anchor: bool = True
    anchor_hz: float = 3500.0
    scales: list[str] = field(default_factory=lambda: list(SCALES))
    question: str = "Which one do you prefer?"


@dataclass(frozen=True)
class StimulusLoudness:
    token: str
    condition: str
    item: str
    role: str  # condition | anchor | reference
    lufs: float
    true_peak_db: float
    gain_db: float


@dataclass(frozen=True)
class Prepared:
    folder: Path
    target_lufs: float
    requested_lufs: float
    stimuli: list[StimulusLoudness]
    n_trials: int

    def table(self) -> str:
        """The read-back loudness of every stimulus, as printed by the CLI."""
        lines = [
            f"target {self.target_lufs:.2f} LUFS"
            + (
                f" (lowered from {self.requested_lufs:.2f}: true-peak headroom)"
                if self.target_lufs != self.requested_lufs
                else ""
            ),
            f"{'token':<14}{'condition':<14}{'item':<16}{'role':<11}"
            f"{'LUFS':>8}{'dev LU':>8}{'dBTP':>7}{'gain dB':>9}",
        ]
        for s in self.stimuli:
            lines.append(
                f"{s.token:<14}{s.condition:<14}{s.item:<16}{s.role:<11}{s.lufs:8.2f}"
                f"{s.lufs - self.target_lufs:+8.2f}{s.true_peak_db:7.2f}{s.gain_db:+9.2f}"
            )
        worst = max(abs(s.lufs - self.target_lufs) for s in self.stimuli)
        lines.append(
            f"{len(self.stimuli)} stimuli, largest deviation {worst:.3f} LU "
            f"(tolerance ±{TOLERANCE_LU} LU); {self.n_trials} trials"
        )
        return "\n".join(lines)


# ---------------------------------------------------------------------------- sources


def render_design(
    design: Design,
    folder: Path,
    config_path: Path | None = None,
    overrides: Sequence[str] = (),
) -> Plan:
    """Render every (condition, item) of the SPEC with the offline renderer into
    ``folder/renders``; the plan cuts ``design.seconds`` from ``design.start_s``."""
    from bassd.app.config import ConfigError, load_config
    from bassd.app.offline import render_offline
    from bassd.control.prompt_schema import PromptBankError

    configs = {}  # every config is checked before the first (maybe long) render
    for cond, cond_set in design.conditions.items():
        for item in design.items:
            sets = [*overrides, *design.set, *cond_set, *item.overrides()]
            try:
                configs[(cond, item.name)] = load_config(config_path, sets)
            except ConfigError as exc:
                raise PrepareError(f"condition {cond}, item {item.name}: {exc}") from None
    renders = folder / "renders"
    renders.mkdir(parents=True, exist_ok=True)
    sources: dict[tuple[str, str], Source] = {}
    for (cond, item_name), cfg in configs.items():
        out = renders / f"{cond}__{item_name}.wav"
        log.info("listen_render", condition=cond, item=item_name, out=str(out))
        try:
            render_offline(cfg, design.start_s + design.seconds, out, record_events=False)
        except PromptBankError as exc:
            raise PrepareError(f"condition {cond}, item {item_name}: {exc}") from None
        sources[(cond, item_name)] = Source(out, design.start_s)
    mushra = design.trials.mushra
    return Plan(
        name=design.name,
        conditions=list(design.conditions),
        items=[i.name for i in design.items],
        sources=sources,
        seconds=design.seconds,
        fade_ms=design.fade_ms,
        target_lufs=design.target_lufs,
        true_peak_ceiling_db=design.true_peak_ceiling_db,
        seed=design.seed,
        pairs=design.pairs(),
        reference=mushra.reference if mushra is not None else None,
        anchor=mushra.anchor if mushra is not None else False,
        anchor_hz=mushra.anchor_hz if mushra is not None else 3500.0,
        scales=list(design.scales),
        question=design.question,
    )


def _session_sources(paths: Iterable[Path]) -> dict[str, list[Path]]:
    """Condition name -> its WAVs in order: a folder's segment clips
    (``<session>_segNNNN.wav``, as ``outputs.keep_audio`` keeps them) grouped by session,
    any other WAV (a ``bassd render`` output) a condition of its own, named by its stem."""
    found: dict[str, list[Path]] = {}
    for p in paths:
        p = Path(p)
        if p.is_dir():
            wavs = sorted(p.glob("*.wav"))
            if not wavs:
                raise PrepareError(f"{p}: no WAV files in it")
        elif p.is_file():
            wavs = [p]
        else:
            raise PrepareError(f"{p}: no such file or folder")
        for w in wavs:
            m = SEGMENT_CLIP.match(w.stem)
            name = m["session"] if m else w.stem
            found.setdefault(name, []).append(w)
    return found


def plan_from_sessions(
    paths: Sequence[Path],
    *,
    seconds: float,
    excerpts: int = 2,
    reference: str | None = None,
    **plan: Any,
) -> Plan:
    """Excerpts of past sessions' audio: each session (or WAV) is a condition, and item
    ``xK`` is the excerpt centred at (K + ½)/excerpts of its length, taken inside one
    clip (segment clips overlap by their crossfades, so they are not joined)."""
    groups = _session_sources(paths)
    names = {re.sub(r"[^a-z0-9_-]", "-", n.lower())[:32]: n for n in groups}
    if len(names) < 2:
        raise PrepareError(f"need at least two sessions or WAVs to compare, got {len(names)}")
    if reference is not None and reference not in names:
        raise PrepareError(f"--reference {reference!r}: no such session (have: {', '.join(names)})")
    items = [f"x{k + 1}" for k in range(excerpts)]
    sources: dict[tuple[str, str], Source] = {}
    for cond, raw in names.items():
        clips = [(w, sf.info(str(w)).duration) for w in groups[raw]]
        total = sum(d for _, d in clips)
        for k, item in enumerate(items):
            centre, t0 = (k + 0.5) / excerpts * total, 0.0
            for w, d in clips:
                if centre <= t0 + d or w == clips[-1][0]:
                    break
                t0 += d
            if d < seconds:
                raise PrepareError(f"{w}: {d:.2f} s long, shorter than the {seconds:g} s asked for")
            start = min(max(centre - t0 - seconds / 2, 0.0), d - seconds)
            sources[(cond, item)] = Source(w, start)
    conds = list(names)
    pairs = [(a, b) for i, a in enumerate(conds) for b in conds[i + 1 :]]
    return Plan(
        name=plan.pop("name", "sessions"),
        conditions=conds,
        items=items,
        sources=sources,
        seconds=seconds,
        pairs=pairs,
        reference=reference,
        anchor=reference is not None,
        **plan,
    )


# ---------------------------------------------------------------------------- audio


def read_excerpt(src: Source, seconds: float) -> np.ndarray:
    """``seconds`` of the source from ``start_s``, as (frames, 2) float64 at 48 kHz."""
    try:
        info = sf.info(str(src.path))
        x, sr = sf.read(
            str(src.path),
            start=round(src.start_s * info.samplerate),
            frames=math.ceil(seconds * info.samplerate) + 1,
            dtype="float64",
            always_2d=True,
        )
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise PrepareError(f"{src.path}: cannot read it: {exc}") from None
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    elif x.shape[1] > 2:
        x = x[:, :2]
    if sr != SAMPLE_RATE:
        x = soxr.resample(x, sr, SAMPLE_RATE, quality="VHQ")
    n = round(seconds * SAMPLE_RATE)
    if len(x) < n:
        raise PrepareError(
            f"{src.path}: only {len(x) / SAMPLE_RATE:.2f} s from {src.start_s:g} s, "
            f"{seconds:g} s needed"
        )
    return np.ascontiguousarray(x[:n])


def apply_fades(x: np.ndarray, fade_ms: float) -> np.ndarray:
    """Raised-cosine fade in and out of ``fade_ms`` each."""
    n = min(round(fade_ms / 1000 * SAMPLE_RATE), len(x) // 2)
    y = x.copy()
    if n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
        y[:n] *= ramp[:, None]
        y[-n:] *= ramp[::-1, None]
    return y


def lowpass_anchor(x: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """The MUSHRA low anchor: the reference low-passed (8th-order Butterworth)."""
    from bassd.dsp.filters import StreamingFilter

    return StreamingFilter("lowpass", cutoff_hz, SAMPLE_RATE, channels=2, order=8).process(x)


def true_peak_db(x: np.ndarray) -> float:
    """True peak (4× oversampled, BS.1770-4 annex 2), dBTP."""
    up = soxr.resample(np.ascontiguousarray(x), SAMPLE_RATE, 4 * SAMPLE_RATE, quality="VHQ")
    peak = float(np.max(np.abs(up))) if up.size else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _loudness(x: np.ndarray) -> float:
    from bassd.dsp.metrics import integrated_loudness

    return integrated_loudness(x, SAMPLE_RATE)


# ---------------------------------------------------------------------------- the test


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _token(taken: set[str]) -> str:
    while True:
        t = secrets.token_hex(5)
        if t not in taken:
            taken.add(t)
            return t


def prepare(plan: Plan, folder: Path) -> Prepared:
    """Cut, match and write every stimulus; build the trials and the key; verify."""
    folder = Path(folder)
    stim_dir = folder / "stimuli"
    if stim_dir.exists():
        shutil.rmtree(stim_dir)
    stim_dir.mkdir(parents=True)
    taken: set[str] = set()
    # (token, condition, item, role, source, signal)
    entries: list[tuple[str, str, str, str, Source, np.ndarray]] = []
    by_cell: dict[tuple[str, str], str] = {}
    extra: dict[str, dict[str, str]] = {}  # item -> role -> token (reference, anchor)
    for item in plan.items:
        for cond in plan.conditions:
            src = plan.sources[(cond, item)]
            x = apply_fades(read_excerpt(src, plan.seconds), plan.fade_ms)
            tok = _token(taken)
            by_cell[(cond, item)] = tok
            entries.append((tok, cond, item, "condition", src, x))
        if plan.reference is not None:
            src = plan.sources[(plan.reference, item)]
            ref = next(e[5] for e in entries if e[1] == plan.reference and e[2] == item)
            extra[item] = {"reference": _token(taken)}
            entries.append((extra[item]["reference"], plan.reference, item, "reference", src, ref))
            if plan.anchor:
                extra[item]["anchor"] = _token(taken)
                entries.append(
                    (extra[item]["anchor"], "anchor", item, "anchor", src,
                     apply_fades(lowpass_anchor(ref, plan.anchor_hz), plan.fade_ms))
                )  # fmt: skip

    measured = []
    for _tok, cond, item, _role, src, x in entries:
        lufs = _loudness(x)
        if not math.isfinite(lufs):
            raise PrepareError(f"condition {cond}, item {item} ({src.path}): silent excerpt")
        measured.append((lufs, true_peak_db(x)))
    target = plan.target_lufs
    headroom = max(tp + (target - lu) for lu, tp in measured) - plan.true_peak_ceiling_db
    if headroom > 0:
        target -= headroom + 0.05
        log.warning("listen_target_lowered", requested=plan.target_lufs, target=round(target, 2),
                    reason="a gain would put a true peak over the ceiling")  # fmt: skip

    key: dict[str, Any] = {}
    gains: dict[str, float] = {}
    for (tok, cond, item, role, src, x), (lufs, _tp) in zip(entries, measured, strict=True):
        gain = target - lufs
        gains[tok] = gain
        y = x * 10 ** (gain / 20)
        sf.write(str(stim_dir / f"{tok}.wav"), y, SAMPLE_RATE, subtype="PCM_24")
        key[tok] = {
            "condition": cond,
            "item": item,
            "role": role,
            "source": str(src.path),
            "start_s": round(src.start_s, 4),
        }

    stimuli = []
    for tok, cond, item, role, _src, _x in entries:
        y, _ = sf.read(str(stim_dir / f"{tok}.wav"), dtype="float64", always_2d=True)
        lufs = _loudness(y)
        stimuli.append(StimulusLoudness(tok, cond, item, role, lufs, true_peak_db(y), gains[tok]))
    bad = [s for s in stimuli if not abs(s.lufs - target) <= TOLERANCE_LU]
    if bad:
        s = bad[0]
        raise PrepareError(
            f"{stim_dir / (s.token + '.wav')} ({s.condition}, {s.item}): {s.lufs:.2f} LUFS, "
            f"more than {TOLERANCE_LU} LU from the target {target:.2f}"
        )

    trials: list[dict[str, Any]] = []
    for item in plan.items:
        for a, b in plan.pairs:
            trials.append({"kind": "ab", "stimuli": [by_cell[(a, item)], by_cell[(b, item)]]})
        if plan.reference is not None:
            hidden = [by_cell[(c, item)] for c in plan.conditions]
            if "anchor" in extra[item]:
                hidden.append(extra[item]["anchor"])
            trials.append(
                {"kind": "mushra", "stimuli": hidden, "reference": extra[item]["reference"]}
            )
    for i, t in enumerate(trials):
        t["id"] = f"t{i + 1:02d}"
    public = {
        "name": plan.name,
        "seed": plan.seed,
        "seconds": plan.seconds,
        "scales": [{"name": s, "low": SCALES[s][0], "high": SCALES[s][1]} for s in plan.scales],
        "question": plan.question,
        "trials": [{"id": t["id"], **{k: v for k, v in t.items() if k != "id"}} for t in trials],
    }
    _write_json(folder / "trials.json", public)
    trial_key = {t["id"]: next(key[s]["item"] for s in t["stimuli"]) for t in trials}
    _write_json(
        folder / "key.json",
        {"name": plan.name, "conditions": plan.conditions, "reference": plan.reference,
         "stimuli": key, "trial_items": trial_key},
    )  # fmt: skip
    _write_json(
        folder / "loudness.json",
        {
            "requested_lufs": plan.target_lufs,
            "target_lufs": round(target, 3),
            "tolerance_lu": TOLERANCE_LU,
            "true_peak_ceiling_db": plan.true_peak_ceiling_db,
            "stimuli": [{**asdict(s), "deviation_lu": round(s.lufs - target, 3)} for s in stimuli],
        },
    )
    log.info("listen_prepared", folder=str(folder), stimuli=len(stimuli), trials=len(trials),
             target_lufs=round(target, 2))  # fmt: skip
    return Prepared(folder, target, plan.target_lufs, stimuli, len(trials))
