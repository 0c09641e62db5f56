"""``bassd analyse FILE... --out DIR``: your own recordings as a sound for the oscillator bank.

Light at import: the analysis (numpy, soundfile, soxr, MiniSom, matplotlib) is imported
when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``analyse`` on the top-level parser's subparsers."""
    a = sub.add_parser(
        "analyse",
        help="analyse recordings into a sound: oscillator set, self-organising map, PNGs",
        description="Spectral peaks -> partial tracks -> an oscillator set (oscset.json) and a "
        "self-organising map of the recordings' regions (som.npz), with a spectrogram PNG per "
        "file and the map's U-matrix (som.png). Play it with renderer.params.partials=DIR or "
        "/renderer/partials NAME, and move on the map with /som/xy.",
    )
    a.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="WAV, FLAC, OGG or MP3; any rate, mono or stereo")  # fmt: skip
    a.add_argument("--out", type=Path, required=True, metavar="DIR", help="the sound's folder")
    a.add_argument("--name", default=None, help="the sound's name (default: DIR's name)")
    a.add_argument("--map", default="auto", metavar="auto|none|RxC",
                   help="map size: auto (~5*sqrt(regions) nodes), none, or e.g. 8x8")  # fmt: skip
    a.add_argument("--max-partials", type=int, default=None, metavar="N",
                   help="at most N partials in the set (default 128)")  # fmt: skip
    a.add_argument("--region", type=float, default=None, metavar="S",
                   help="seconds of audio per map row (default 0.5)")  # fmt: skip
    a.add_argument("--seed", type=int, default=0, help="the map's seed (0)")
    a.add_argument("--no-png", action="store_true", help="write no PNGs")
    a.set_defaults(func=cmd_analyse)


def cmd_analyse(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bassd.app.analyse import AnalysisError, analyse_files, parse_map
    from bassd.dsp.analysis import AnalysisSettings

    try:
        som = parse_map(args.map)
        settings = AnalysisSettings()
        if args.max_partials is not None:
            if not 1 <= args.max_partials <= 1024:
                raise ValueError("--max-partials must be 1..1024")
            settings = replace(settings, max_partials=args.max_partials)
        if args.region is not None:
            settings = replace(settings, region_s=args.region)
        result = analyse_files(
            args.files,
            args.out,
            name=args.name,
            settings=settings,
            som=som,
            seed=args.seed,
            pngs=not args.no_png,
            progress=lambda m: print(m, file=sys.stderr),
        )
    except (AnalysisError, ValueError) as exc:
        print(f"bassd analyse: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"bassd analyse: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    print(summary(result))
    return 0


def summary(result: Any) -> str:
    """The report: files, the set by band, the map, the time."""
    sound = result.sound
    oscset = sound.oscset
    lines = [f"sound {sound.name!r} -> {result.folder}", ""]
    head = ("file", "rate", "ch", "seconds", "regions", "peak dBFS")
    lines.append("{:<32} {:>6} {:>3} {:>9} {:>8} {:>10}".format(*head))
    for f in result.files:
        lines.append(f"{f.path.name[:32]:<32} {f.rate:>6} {f.channels:>3} {f.seconds:>9.1f} "
                     f"{f.regions:>8} {f.peak_dbfs:>10.1f}")  # fmt: skip
    lines += ["", f"{len(oscset)} partials, {oscset.partials[0].freq_hz:.1f}.."
              f"{oscset.partials[-1].freq_hz:.1f} Hz", ""]  # fmt: skip
    lines.append(f"{'band (Hz)':<12} {'partials':>8} {'stable':>7} {'coupling K/Kc':>14}")
    for b in oscset.bands:
        lines.append(f"{b.label:<12} {b.partials:>8} {b.stable_share:>7.2f} {b.coupling:>14.2f}")
    som = sound.som
    if som is not None:
        first, last = som.history[0], som.history[-1]
        lines += ["", f"map {som.rows}x{som.cols}: quantisation error {first[1]:.3f} -> "
                  f"{last[1]:.3f}, topographic error {first[2]:.3f} -> {last[2]:.3f}"]  # fmt: skip
    else:
        lines += ["", "no map (too few regions, or --map none)"]
    wall, audio = result.wall_seconds, result.audio_seconds
    speed = audio / wall if wall > 0 else 0.0
    per_minute = 60.0 * wall / max(audio, 1e-9)
    lines += ["", f"{audio:.1f} s of audio in {wall:.2f} s ({speed:.0f}x real time; "
              f"{per_minute:.2f} s per minute of audio)"]  # fmt: skip
    for stage, sec in result.stage_seconds.items():
        lines.append(f"  {stage:<40} {sec:8.2f} s")
    for p in result.pngs:
        lines.append(f"wrote {p}")
    return "\n".join(lines)
