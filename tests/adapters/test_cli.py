"""The `adapters` CLI commands through an argparse parser built with add_commands."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
import torch

from bassd.adapters.cli import add_commands, cmd_adapters
from tests.adapters.test_train import write_audio


def run(argv: list[str]) -> int:
    """Parse ``argv`` as the main CLI would and run the adapters handler."""
    parser = argparse.ArgumentParser(prog="bassd")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    assert args.command == "adapters"
    return cmd_adapters(args)


def test_cli_merge(
    tiny_dir: Path,
    adapter_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`adapters merge` writes a loadable checkpoint whose weights moved, and says where."""
    from transformers import MusicgenForConditionalGeneration

    lib = tmp_path / "lib"
    shutil.copytree(adapter_dirs["plain"], lib / "calm")
    out = tmp_path / "merged"
    rc = run(["adapters", "merge", "--model", str(tiny_dir), "--adapter", "calm=0.5",
              "--adapter", f"{adapter_dirs['rs_emb']}=-1", "--out", str(out), "--adapters-dir", str(lib)])  # fmt: skip
    assert rc == 0
    assert f"into {out}" in capsys.readouterr().out
    merged = MusicgenForConditionalGeneration.from_pretrained(out, local_files_only=True)
    base = MusicgenForConditionalGeneration.from_pretrained(tiny_dir, local_files_only=True)
    k = "decoder.model.decoder.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(merged.state_dict()[k], base.state_dict()[k])


def test_cli_errors_are_one_line_and_exit_2(
    tiny_dir: Path,
    adapter_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A missing model points to `bassd models download`; a bad blend item or unknown adapter is named; exit code 2."""
    rc = run(["adapters", "merge", "--model", str(tmp_path / "nomodel"),
              "--adapter", f"{adapter_dirs['plain']}=1", "--out", str(tmp_path / "m")])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "bassd models download" in err
    rc = run(
        [
            "adapters",
            "merge",
            "--model",
            str(tiny_dir),
            "--adapter",
            "calm",
            "--out",
            str(tmp_path / "m"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "'calm'" in err and "NAME_OR_DIR=WEIGHT" in err
    rc = run(
        [
            "adapters",
            "merge",
            "--model",
            str(tiny_dir),
            "--adapter",
            "happy=1",
            "--out",
            str(tmp_path / "m"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "'happy' not found" in err and err.startswith("bassd: ")
    rc = run(["adapters", "train", "--model", str(tiny_dir), "--audio-dir", str(tmp_path / "none"),
              "--name", "x", "--out", str(tmp_path / "o")])  # fmt: skip
    assert rc == 2 and "does not exist" in capsys.readouterr().err


def test_cli_train_then_list(
    tiny_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`adapters train` runs 3 steps into --out/NAME with a loadable adapter; `adapters list` then finds it."""
    from peft import PeftConfig

    audio = write_audio(tmp_path / "audio")
    out = tmp_path / "runs"
    rc = run(["adapters", "train", "--model", str(tiny_dir), "--audio-dir", str(audio), "--name", "calm",
              "--captions", str(audio / "captions.csv"), "--text", "gentle drone", "--steps", "3",
              "--rank", "2", "--alpha", "4", "--lr", "0.001", "--clip-seconds", "1", "--no-progress",
              "--out", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert (
        "adapter calm: 3 steps" in captured.out
        and "skipped" in captured.err
        and "bad.wav" in captured.err
    )
    assert len((out / "calm" / "train_log.jsonl").read_text().splitlines()) == 3
    assert PeftConfig.from_pretrained(str(out / "calm")).r == 2
    assert run(["adapters", "list", "--adapters-dir", str(out)]) == 0
    assert capsys.readouterr().out.split() == ["calm"]
