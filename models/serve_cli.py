"""``bassd serve start|status|stop``: the MusicGen render service on a Ray cluster.

``start`` joins the cluster (``--address``, else ``RAY_ADDRESS``, else the local one that
``ray start --head`` made), deploys the application (:mod:`bassd.models.ray_serve`) and
returns once its replicas have loaded the model; the deployment outlives the command.
Daemons reach it with ``musicgen.backend: ray``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bassd.models.ray_serve import APP_NAME


def add_commands(sub: Any, add_config_args: Any) -> None:
    p = sub.add_parser(
        "serve", help="the MusicGen render service on a Ray cluster (needs [cluster])"
    )
    ssub = p.add_subparsers(dest="serve_command", required=True)
    start = ssub.add_parser(
        "start",
        help="deploy MusicGen to a Ray cluster (Ray Serve), for daemons with musicgen.backend: ray",
        description="Deploy the MusicGen render service to the Ray cluster at --address "
        "(default: RAY_ADDRESS, else the local cluster) and return once it runs.",
    )
    add_config_args(start)
    start.add_argument(
        "--model", help="folder or hub id on the replicas' machines (default: musicgen.model)"
    )
    start.add_argument("--device", help="auto, cpu, cuda, mps (default: musicgen.device)")
    start.add_argument("--dtype", help="float32, bfloat16, float16 (default: musicgen.dtype)")
    start.add_argument(
        "--replicas", type=int, default=1, help="replicas (the minimum, with --max-replicas)"
    )
    start.add_argument("--max-replicas", type=int,
                       help="autoscale on queue length up to this many replicas")  # fmt: skip
    start.add_argument("--gpus-per-replica", type=float, default=0.0)
    start.add_argument("--cpus-per-replica", type=float, default=1.0)
    start.add_argument(
        "--threads", type=int, help="torch threads per replica (default: all but one)"
    )
    start.add_argument("--max-batch", type=int, default=1,
                       help="decode up to this many concurrent requests as one batch "
                       "(1: one clip at a time)")  # fmt: skip
    start.add_argument("--batch-wait-ms", type=float, default=50.0,
                       help="how long a request waits for others to batch with")  # fmt: skip
    status = ssub.add_parser("status", help="the render service's replicas and state")
    stop = ssub.add_parser("stop", help="remove the render service from the cluster")
    for q in (start, status, stop):
        q.add_argument(
            "--address", help="the Ray cluster (default: RAY_ADDRESS, else the local one)"
        )
        q.add_argument(
            "--name", default=APP_NAME, help=f"the application's name (default {APP_NAME})"
        )
        q.set_defaults(func=cmd_serve)


def _ray_or_exit() -> bool:
    try:
        import ray  # noqa: F401
        from ray import serve  # noqa: F401
    except ImportError as exc:
        print(f"bassd: Ray Serve is not installed ({exc}); pip install 'bassd[cluster]'",
              file=sys.stderr)  # fmt: skip
        return False
    return True


def cmd_serve(args: argparse.Namespace) -> int:
    if not _ray_or_exit():
        return 2
    from bassd.models.ray_serve import connect, deploy, deployment_options

    options: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    if args.serve_command == "start":
        from bassd.app.config import ConfigError, load_config

        try:
            mc = load_config(args.config, args.overrides).musicgen
            options = deployment_options(args.replicas, args.max_replicas,
                                         args.gpus_per_replica, args.cpus_per_replica,
                                         args.max_batch)  # fmt: skip
            if args.batch_wait_ms < 0:
                raise ValueError(f"--batch-wait-ms must be >= 0, not {args.batch_wait_ms:g}")
        except (ConfigError, ValueError) as exc:
            print(f"bassd: {exc}", file=sys.stderr)
            return 2
        model = args.model or mc.model
        if Path(model).expanduser().is_dir():
            model = str(Path(model).expanduser().resolve())
        settings = {"model": model, "device": args.device or mc.device,
                    "dtype": args.dtype or mc.dtype, "threads": args.threads or mc.threads,
                    "adapter_dirs": [str(mc.adapters_dir)] if mc.adapters_dir else [],
                    "max_batch": args.max_batch,
                    "batch_wait_s": args.batch_wait_ms / 1e3}  # fmt: skip
    try:
        connect(args.address)
    except Exception as exc:  # no cluster there: say which address was tried
        where = args.address or "RAY_ADDRESS or the local cluster"
        print(f"bassd: cannot reach a Ray cluster at {where}: {exc}", file=sys.stderr)
        return 1
    from ray import serve

    if args.serve_command == "start":
        try:
            deploy(settings, options, args.name)
        except Exception as exc:  # a replica failed to load: Serve says why
            print(f"bassd: the deployment failed: {exc}", file=sys.stderr)
            return 1
        print(f"deployed {args.name}: model {settings['model']}, "
              f"{_replica_text(options)}, batches of up to {settings['max_batch']}; "
              "daemons: --set musicgen.backend=ray")  # fmt: skip
        return 0
    if args.serve_command == "stop":
        serve.delete(args.name)
        print(f"removed {args.name}")
        return 0
    status = serve.status()
    app = status.applications.get(args.name)
    if app is None:
        print(f"bassd: no application {args.name!r} on this cluster", file=sys.stderr)
        return 1
    deployments = {
        name: {
            "status": str(d.status),
            "replicas": {str(k): c for k, c in d.replica_states.items()},
        }
        for name, d in app.deployments.items()
    }
    out = {"application": args.name, "status": str(app.status), "deployments": deployments}
    print(json.dumps(out, indent=2))
    return 0


def _replica_text(options: dict[str, Any]) -> str:
    auto = options.get("autoscaling_config")
    if auto:
        return f"{auto['min_replicas']}..{auto['max_replicas']} replicas (autoscaling)"
    return f"{options['num_replicas']} replica(s)"
