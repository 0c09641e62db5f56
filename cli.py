"""The ``bassd`` command line: run, render, demo, devices, status, session, generate, models,
adapters, jam, midi, ble, service."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bassd.app.config import Config
    from bassd.engine.segment_log import SegmentLog

# one BLAS thread: the engine's matrix products are small and the audio
# machine's cores are for the sound server and the event loop
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="YAML file merged over the shipped defaults")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting, e.g. --set audio.block_size=512 (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bassd", description="bassd: a real-time adaptive music engine daemon"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the daemon: open the audio device and play")
    _add_config_args(run)
    render = sub.add_parser("render", help="render a session offline to a 48 kHz / 24-bit WAV")
    _add_config_args(render)
    for p in (run, render):
        p.add_argument("--listener", metavar="NAME",
                       help="learn which prompts work for this listener (prompts.policy: learn, "
                            "kept in prompts.listeners_dir)")  # fmt: skip
    render.add_argument("--seconds", type=float, help="length (default: the trace's, else 120)")
    render.add_argument("--out", type=Path, required=True, help="output WAV file")
    render.add_argument("--seed", type=int, help="timeline seed (default: timeline.seed)")
    render.add_argument(
        "--hr-trace", type=Path, help="heart-rate CSV (t,bpm[,rr_ms]) that steers the session"
    )
    render.add_argument(
        "--scenario", help="a shipped heart-rate scenario (see `bassd demo --list`)"
    )
    render.add_argument(
        "--ble-trace", type=Path,
        help="recorded BLE heart-rate notifications (t,hex: bassd ble record) that steer it",
    )  # fmt: skip
    render.add_argument(
        "--osc", type=Path, metavar="SCRIPT",
        help="timed OSC ('SECONDS /address args' per line) played as timetagged bundles",
    )  # fmt: skip
    demo = sub.add_parser(
        "demo", help="render a shipped heart-rate scenario end to end (baseline, stress, recovery)"
    )
    _add_config_args(demo)
    demo.add_argument("--scenario", default="stress_recovery")
    demo.add_argument("--out", type=Path, default=Path("outputs/demo.wav"))
    demo.add_argument("--seed", type=int)
    demo.add_argument("--list", action="store_true", help="list the shipped scenarios")
    sub.add_parser("devices", help="list audio output devices")
    status = sub.add_parser("status", help="ask a running daemon for its status over OSC")
    _add_config_args(status)
    status.add_argument("--timeout", type=float, default=2.0)
    from bassd.adapters.cli import add_commands as add_adapter_commands
    from bassd.app.analyse_cli import add_commands as add_analyse_commands
    from bassd.app.ble_cli import add_commands as add_ble_commands
    from bassd.app.hrv_cli import add_commands as add_hrv_commands
    from bassd.app.jam_cli import add_commands as add_jam_commands
    from bassd.app.layers_cli import add_commands as add_layers_commands
    from bassd.app.library_cli import add_commands as add_library_commands
    from bassd.app.listen_cli import add_commands as add_listen_commands
    from bassd.app.midi_cli import add_commands as add_midi_commands
    from bassd.app.report_cli import add_commands as add_report_commands
    from bassd.app.scenes_cli import add_commands as add_scenes_commands
    from bassd.app.service_cli import add_commands as add_service_commands
    from bassd.app.session_cli import add_commands as add_session_commands
    from bassd.models.cli import add_commands as add_model_commands
    from bassd.models.prompts_cli import add_commands as add_prompts_commands
    from bassd.models.serve_cli import add_commands as add_serve_commands
    from bassd.models.vae_cli import add_commands as add_vae_commands

    add_model_commands(sub, _add_config_args)
    add_adapter_commands(sub)
    add_jam_commands(sub, _add_config_args)
    add_midi_commands(sub)
    add_ble_commands(sub, _add_config_args)
    add_hrv_commands(sub, _add_config_args)
    add_analyse_commands(sub, _add_config_args)
    add_scenes_commands(sub, _add_config_args)
    add_session_commands(sub, _add_config_args)
    add_report_commands(sub, _add_config_args)
    add_prompts_commands(sub, _add_config_args)
    add_vae_commands(sub, _add_config_args)
    add_service_commands(sub)
    add_serve_commands(sub, _add_config_args)
    add_listen_commands(sub, _add_config_args)
    add_library_commands(sub, _add_config_args)
    add_layers_commands(sub, _add_config_args)
    return parser


def _overrides(args: argparse.Namespace) -> list[str]:
    overrides = list(args.overrides)
    if getattr(args, "seed", None) is not None:
        overrides.append(f"timeline.seed={args.seed}")
    if getattr(args, "listener", None):
        overrides += ["prompts.policy=learn", f"prompts.listener={args.listener}"]
    return overrides


def _load(args: argparse.Namespace) -> Config:
    from bassd.app.config import ConfigError, load_config

    try:
        return load_config(args.config, _overrides(args))
    except ConfigError as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _segment_log(cfg: Config, session: str | None = None) -> SegmentLog:
    from bassd.engine.segment_log import SegmentLog

    o = cfg.outputs
    return SegmentLog(
        o.metrics_csv, o.audio_dir if o.keep_audio else None, cfg.audio.sample_rate, session
    )


def cmd_run(args: argparse.Namespace) -> int:
    from bassd.engine.device_process import DeviceHost

    # the device process boots (PortAudio, the sound server's client) while this
    # process reads its config and imports the rest of the daemon
    host = DeviceHost.spawn()
    try:
        cfg = _load(args)
    except SystemExit:
        host.kill()
        raise
    midi_process = None
    if cfg.midi.enabled:  # the MIDI process boots while the daemon does (control/midi_host.py)
        from bassd.control.midi_host import spawn_midi_process

        midi_process = spawn_midi_process()
    from bassd.app.logging_setup import configure_logging
    from bassd.engine.device_process import start_device_early
    from bassd.engine.shm_names import claim_ownership, remove_stale_blocks, start_resource_tracker

    configure_logging(cfg.logging.level, cfg.logging.format)
    a = cfg.audio
    claim_ownership()  # the shared memory this daemon and its children create is its own
    stale = remove_stale_blocks()  # ... and what dead daemons left behind is removed
    start_resource_tracker()  # deaf to SIGHUP, like every other child
    device = start_device_early(
        ring_frames=a.ring_frames,
        sample_rate=a.sample_rate,
        block_size=a.block_size,
        fade_frames=a.fade_frames,
        device=a.device,
        host=host,
    )
    from bassd.app.config import load_config
    from bassd.app.daemon import run_daemon
    from bassd.control.prompt_schema import PromptBankError
    from bassd.control.protocol import ProtocolError
    from bassd.engine.device import DeviceError

    if stale:
        import structlog

        structlog.get_logger("bassd").info("stale_shared_memory_removed", blocks=stale)

    def reload() -> Config:  # SIGHUP: the same file and overrides, validated again
        return load_config(args.config, _overrides(args))

    try:
        return run_daemon(cfg, device=device, segment_log=_segment_log(cfg),
                          midi_process=midi_process, reload_config=reload)  # fmt: skip
    except (PromptBankError, ProtocolError) as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    except (DeviceError, OSError) as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 3
    finally:
        if midi_process is not None:
            midi_process.kill()  # (already ended by the daemon, unless it failed early)
        ring, player, proc = device
        proc.kill()
        ring.close()
        player.close()


def scenario_path(name: str) -> Path:
    from importlib.resources import files

    folder = files("bassd.configs.scenarios")
    path = Path(str(folder.joinpath(f"{name}.csv")))
    if not path.is_file():
        names = sorted(
            p.name.removesuffix(".csv") for p in folder.iterdir() if p.name.endswith(".csv")
        )
        raise SystemExit(f"bassd: no scenario {name!r}; shipped: {', '.join(names)}")
    return path


def _render(
    args: argparse.Namespace,
    trace_path: Path | None,
    ble_trace: Path | None = None,
    *,
    until: Any = None,
    planned: Any = None,
) -> int:
    """``bassd render``/``demo``/``session render``: a heart-rate trace, or BLE notifications
    (through the BLE parser, ``app/ble_input.py``), steer the session. ``until(session)``
    ends it early (a protocol's end); ``planned(config)``: its length without --seconds."""
    cfg = _load(args)
    from bassd.app.logging_setup import configure_logging
    from bassd.app.offline import render_offline
    from bassd.control.hr import read_hr_trace

    configure_logging(cfg.logging.level, cfg.logging.format)
    trace = feeder = script = None
    try:
        if trace_path is not None:
            trace = read_hr_trace(trace_path)
        if ble_trace is not None:
            from bassd.app.ble_input import TraceFeeder

            feeder = TraceFeeder(ble_trace)
        if getattr(args, "osc", None) is not None:
            from bassd.app.osc_script import load_script

            script = load_script(args.osc)
    except (OSError, ValueError) as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    seconds = args.seconds
    if seconds is None and planned is not None:
        seconds = planned(cfg)
    if seconds is None:
        end = trace[-1][0] if trace else feeder.seconds if feeder is not None else None
        seconds = end + 5.0 if end is not None else 120.0
    if seconds <= 0:
        print("bassd: --seconds must be positive", file=sys.stderr)
        return 2
    from bassd.control.prompt_schema import PromptBankError
    from bassd.control.protocol import ProtocolError

    feeds = [f for f in (feeder, script.feed() if script is not None else None) if f is not None]

    def feed(session: Any, frame0: int, n: int) -> None:
        for f in feeds:
            f(session, frame0, n)

    try:
        result = render_offline(cfg, seconds, args.out, segment_log=_segment_log(cfg),
                                hr_trace=trace, feed=feed if feeds else None,
                                report=True, until=until)  # fmt: skip
    except (PromptBankError, ProtocolError) as exc:
        print(f"bassd: {exc}", file=sys.stderr)
        return 2
    print(
        f"rendered {result.seconds:.1f} s to {result.path} in {result.wall_seconds:.2f} s "
        f"({result.speed:.1f}x real time, {result.segments} segments, "
        f"{result.fallbacks} fallbacks); metrics in {cfg.outputs.metrics_csv}"
    )
    if feeder is not None:
        print(f"from {len(feeder.rows)} BLE notifications")
    if script is not None and script.server is not None:
        c = script.server.counters
        print(f"OSC: {c.messages} messages, {c.scheduled} timetagged, {c.handled} handled, "
              f"{c.dropped} dropped")  # fmt: skip
    if result.events_csv is not None:
        print(f"events in {result.events_csv}")
    if trace is not None or feeder is not None:
        timeline = ", ".join(f"{t:.0f} s {state}" for t, state in result.states)
        print(f"states: {timeline}")
    if result.report is not None:
        print(f"report: {result.report[0]} (summary: {result.report[1]})")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    given = [args.hr_trace, args.scenario, args.ble_trace]
    if sum(x is not None for x in given) > 1:
        print("bassd: give one of --hr-trace, --scenario, --ble-trace", file=sys.stderr)
        return 2
    trace = args.hr_trace or (scenario_path(args.scenario) if args.scenario else None)
    return _render(args, trace, args.ble_trace)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.list:
        from importlib.resources import files

        for p in sorted(files("bassd.configs.scenarios").iterdir(), key=lambda p: p.name):
            if p.name.endswith(".csv"):
                print(p.name.removesuffix(".csv"))
        return 0
    args.seconds = None
    return _render(args, scenario_path(args.scenario))


def cmd_devices(args: argparse.Namespace) -> int:
    from bassd.engine.device import list_output_devices

    devs = list_output_devices()
    if not devs:
        print("no audio output devices (is a sound server running?)")
    for d in devs:
        print(f"[{d.index}] {d.name}  ({d.hostapi}, {d.channels} out)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Ask a running daemon for /status and print its JSON (exit 1 if none answers)."""
    cfg = _load(args)
    from bassd.control.osc_codec import Message, OscError, encode_message, parse_packet

    host = "127.0.0.1" if cfg.osc.host in ("0.0.0.0", "", "::") else cfg.osc.host
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, cfg.osc.reply_port))
    except OSError as exc:
        print(
            f"bassd: cannot listen for the reply on {host}:{cfg.osc.reply_port}: {exc}",
            file=sys.stderr,
        )
        return 1
    sock.settimeout(args.timeout)
    try:
        sock.sendto(encode_message("/status"), (host, cfg.osc.port))
        while True:
            data, _ = sock.recvfrom(65536)
            try:
                msg = parse_packet(data)
            except OscError:
                continue
            if isinstance(msg, Message) and msg.address == "/status/json" and msg.args:
                print(json.dumps(json.loads(msg.args[0]), indent=2))
                return 0
    except (TimeoutError, ConnectionRefusedError):
        print(
            f"bassd: no answer from {host}:{cfg.osc.port} within {args.timeout:g} s "
            "(is the daemon running?)",
            file=sys.stderr,
        )
        return 1
    finally:
        sock.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "run": cmd_run,
        "render": cmd_render,
        "demo": cmd_demo,
        "devices": cmd_devices,
        "status": cmd_status,
        "service": lambda a: int(a.func(a)),
    }
    if args.command in ("generate", "models"):
        from bassd.models.cli import cmd_generate, cmd_models

        return (cmd_generate if args.command == "generate" else cmd_models)(args)
    if args.command == "adapters":
        return int(args.handler(args))
    if args.command in handlers:
        return handlers[args.command](args)
    return int(args.func(args))  # each add_commands module sets its handler


if __name__ == "__main__":
    raise SystemExit(main())
