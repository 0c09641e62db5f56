"""pyproject.toml: the dependencies and every extra resolve with the configured package index."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
PROJECT = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
GROUPS = {"dependencies": PROJECT["dependencies"], **PROJECT["optional-dependencies"]}


def pip_resolves(requirements: list[str], *pip_args: str) -> subprocess.CompletedProcess[str]:
    """Resolve ``requirements`` as ``pip install`` would, installing nothing."""
    return subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--dry-run", "--quiet",
            "--ignore-installed", "--disable-pip-version-check", *pip_args, *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip


def _wheel(folder: Path, name: str, version: str) -> None:
    """A minimal valid pure-Python wheel of ``name`` ``version``."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)


def test_every_group_resolves_together() -> None:
    """`pip install .[every extra]` finds a release for every requirement, all of them at once
    (one resolution: ~25 s, where one per group took ~25 s each); where it fails, each group is
    resolved alone to name the one at fault."""
    every = sorted({req for reqs in GROUPS.values() for req in reqs})
    r = pip_resolves(every)
    if r.returncode != 0:
        failing = [g for g in sorted(GROUPS) if pip_resolves(GROUPS[g]).returncode != 0]
        pytest.fail(
            f"groups that do not resolve: {failing or 'none alone (a conflict)'}\n{r.stderr}"
        )


def test_a_requirement_only_prereleases_satisfy_is_caught(tmp_path: Path) -> None:
    """The check fails for a bound that only pre-releases meet (supriya>=25.0 was one),
    and passes once the pre-release is asked for."""
    _wheel(tmp_path, "bassd-probe", "2.0b1")
    local = ("--no-index", "--find-links", str(tmp_path))
    skipped = pip_resolves(["bassd-probe>=1.0"], *local)
    assert skipped.returncode != 0
    assert "No matching distribution found for bassd-probe>=1.0" in skipped.stderr
    assert pip_resolves(["bassd-probe>=2.0b1"], *local).returncode == 0
