"""The generated Pure Data patch, run in a real Pd: every message box sends OSC that the
address table accepts (received by liblo's oscdump)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bassd.control.addresses import BY_PATH, TABLE
from tests.osc_client import OscDump, free_udp_port, have_liblo

PATCH = Path(__file__).resolve().parents[2] / "max_patches" / "bassd.pd"


def _need(tool: str, package: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} must be installed in CI (Debian package {package})")
        pytest.skip(f"{tool} is not installed (Debian package {package})")


def test_pd_patch_sends_valid_osc(tmp_path: Path) -> None:
    """Banging every message box of bassd.pd in Pd sends one valid message per address."""
    _need("pd", "puredata-core")
    if not have_liblo():
        _need("oscdump", "liblo-tools")
    port = free_udp_port()
    lines = PATCH.read_text().splitlines()
    objects = [i for i, ln in enumerate(ln for ln in lines[1:] if not ln.startswith("#X connect"))]
    count = len(objects)
    body = [ln.replace("connect localhost 8000", f"connect localhost {port}") for ln in lines]
    msgs = [
        i
        for i, ln in enumerate(ln for ln in lines[1:] if not ln.startswith("#X connect"))
        if ln.startswith("#X msg") and "connect localhost" not in ln
    ]
    connect_msg = next(
        i
        for i, ln in enumerate(ln for ln in lines[1:] if not ln.startswith("#X connect"))
        if "connect localhost" in ln
    )
    lb, trig, delay, quit_ = count, count + 1, count + 2, count + 3
    body += [
        "#X obj 10 10 loadbang;",
        "#X obj 10 40 t b b b;",
        "#X obj 10 70 delay 500;",
        "#X msg 10 100 \\; pd quit;",
        f"#X connect {lb} 0 {trig} 0;",
        f"#X connect {trig} 2 {connect_msg} 0;",
        *[f"#X connect {trig} 1 {m} 0;" for m in msgs],
        f"#X connect {trig} 0 {delay} 0;",
        f"#X connect {delay} 0 {quit_} 0;",
    ]
    driver = tmp_path / "driver.pd"
    driver.write_text("\n".join(body) + "\n")
    with OscDump(port) as dump:
        r = subprocess.run(
            ["pd", "-nogui", "-noaudio", "-nomidi", "-stderr", "-open", str(driver)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "couldn't create" not in r.stderr, r.stderr
        received = {}
        for _ in range(len(msgs)):
            line = dump.lines.get(timeout=5)
            parts = line.rstrip("\n").split(" ", 3)
            received[parts[1]] = (
                parts[2] if len(parts) > 2 else "",
                parts[3] if len(parts) > 3 else "",
            )
    expected = {a.path for a in TABLE if not a.debug and not a.peer}
    assert set(received) == expected
    for address, (tags, text) in received.items():
        args: list[object] = []
        for tag, tok in zip(tags, re.findall(r'"[^"]*"|\S+', text), strict=False):
            args.append(float(tok) if tag == "f" else tok.strip('"'))
        BY_PATH[address].validate(tags, tuple(args))
