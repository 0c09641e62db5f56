"""``bassd vae ...`` through the real CLI: one tiny model trained once (4 epochs, latent 4)
on six synthetic files and one unreadable file, then the library, presets and render."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from tests.models.vae_data_files import write_set

SR = 24000
# a slider row: number, name (may hold spaces), descriptor, rho (or -), var%, correlations
ROW = re.compile(r"^\s*(\d+)\s+.+?\s+([+-]\d\.\d\d|-)\s+(\d+\.\d)\s+\S")


def _write_set(folder: Path) -> Path:
    """Six files (harmonic tones on different fundamentals, white and brown noise) and one
    with an audio suffix that is not audio."""
    write_set(folder, harmonics=6, tilt=False)
    (folder / "broken.wav").write_bytes(b"this is not a wav file")
    return folder


def vae(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bassd", "vae", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("vaecli")
    audio = _write_set(root / "audio")
    lib = root / "lib"
    res = vae("train", "--library", lib, "--audio-dir", audio, "--name", "tiny",
              "--epochs", "4", "--latent", "4", "--device", "cpu")  # fmt: skip
    assert res.returncode == 0, res.stderr
    return lib, audio, res


def test_train_prints_summary_and_slider_table_and_lists_model(setup) -> None:
    """train prints files, seconds, epochs, best held-out loss and the slider table; the
    model is then listed with its file count."""
    lib, audio, res = setup
    out = res.stdout
    assert "6 files, 24.0 s of audio" in out
    assert "epochs: 4 of 4 (epoch limit)" in out
    assert "best held-out loss:" in out
    assert "sliders (" in out and "descriptor" in out and "rho" in out
    listed = vae("list", "--library", lib)
    assert listed.returncode == 0
    assert listed.stdout.startswith("tiny") and "6 files" in listed.stdout
    assert f"trained on 6 files from {audio}" in listed.stdout


def test_unreadable_file_is_named_and_the_rest_train(setup) -> None:
    """A file that cannot be decoded is named with its reason; the six others train."""
    _, _, res = setup
    skipped = [ln for ln in res.stdout.splitlines() if ln.startswith("skipped")]
    assert len(skipped) == 1 and "broken.wav" in skipped[0]
    assert "not a readable audio file" in skipped[0]
    assert "files: 6 (" in res.stdout


def test_second_train_with_same_name_is_refused(setup) -> None:
    """Training into a name the library holds without --resume exits 2 suggesting --resume."""
    lib, audio, _ = setup
    res = vae("train", "--library", lib, "--audio-dir", audio, "--name", "tiny", "--epochs", "1")
    assert res.returncode == 2
    assert res.stderr.startswith("bassd vae: ") and "--resume" in res.stderr
    assert "epoch" not in res.stdout


def test_resume_continues_the_checkpoint(setup) -> None:
    """--resume with more epochs runs only the missing ones, keeping the latent size."""
    lib, audio, _ = setup
    res = vae("train", "--library", lib, "--audio-dir", audio, "--name", "tiny",
              "--epochs", "5", "--resume", "--device", "cpu")  # fmt: skip
    assert res.returncode == 0, res.stderr
    epochs = [ln for ln in res.stdout.splitlines() if ln.startswith("epoch ")]
    assert [ln.split(":")[0] for ln in epochs] == ["epoch 5/5"]
    assert "epochs: 5 of 5" in res.stdout
    assert vae("list", "--library", lib).stdout.count("\n") == 1


def test_sliders_prints_one_row_per_slider_with_rho(setup) -> None:
    """sliders NAME prints a header and one row per slider: number, name, rho, variance."""
    lib, _, _ = setup
    res = vae("sliders", "tiny", "--library", lib)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    n = int(lines[0].split("(")[1].split(")")[0])
    assert 1 <= n <= 4
    assert "rho" in lines[1] and "var%" in lines[1]
    rows = lines[2:]
    assert len(rows) == n
    cells = [ROW.match(row) for row in rows]
    assert all(cells), rows
    assert [int(m.group(1)) for m in cells if m] == list(range(1, n + 1))
    assert any(m.group(2) != "-" for m in cells if m), "no slider follows a descriptor"


def test_sliders_fit_without_training_audio_is_a_clear_error(setup, tmp_path: Path) -> None:
    """sliders --fit on a model whose recorded audio folder is gone names the folder."""
    from bassd.models.vae_library import VaeLibrary

    lib, _, _ = setup
    assert vae("export", "tiny", tmp_path / "t.bassdvae", "--library", lib).returncode == 0
    assert (
        vae("import", tmp_path / "t.bassdvae", "--name", "gone", "--library", lib).returncode == 0
    )
    library = VaeLibrary(lib)
    meta = library.info("gone")
    meta["audio_dir"] = str(tmp_path / "no-such-folder")
    library.register("gone", meta, replace=True)
    res = vae("sliders", "gone", "--fit", "--library", lib)
    assert res.returncode == 2
    assert "no-such-folder" in res.stderr and "training audio" in res.stderr
    assert vae("delete", "gone", "--yes", "--library", lib).returncode == 0


def test_library_round_trip(setup, tmp_path: Path) -> None:
    """export, import under a new name, search, rename, delete (refused without --yes)."""
    lib, _, _ = setup
    ex = vae("export", "tiny", tmp_path / "tiny.bassdvae", "--library", lib)
    assert ex.returncode == 0, ex.stderr
    assert (tmp_path / "tiny.bassdvae").is_file()
    im = vae("import", tmp_path / "tiny.bassdvae", "--name", "copy", "--library", lib)
    assert im.returncode == 0 and "as copy" in im.stdout
    again = vae("import", tmp_path / "tiny.bassdvae", "--name", "copy", "--library", lib)
    assert again.returncode == 2 and "already exists" in again.stderr
    found = vae("search", "trained on 6", "--library", lib)
    assert [ln.split()[0] for ln in found.stdout.splitlines()] == ["copy", "tiny"]
    assert vae("search", "no such words", "--library", lib).returncode == 1
    assert vae("rename", "copy", "copy2", "--library", lib).returncode == 0
    refused = vae("delete", "copy2", "--library", lib)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert "copy2" in vae("list", "--library", lib).stdout
    assert vae("delete", "copy2", "--yes", "--library", lib).returncode == 0
    listed = vae("list", "--library", lib).stdout
    assert "copy" not in listed and "tiny" in listed
    unknown = vae("delete", "copy2", "--yes", "--library", lib)
    assert unknown.returncode == 2 and "no model called 'copy2'" in unknown.stderr


def test_presets_save_show_list_delete(setup) -> None:
    """A preset saved by slider number and name shows every slider's value, is listed and
    deleted; an unknown slider or a value outside 0..1 is refused naming it."""
    lib, _, _ = setup
    first = vae("sliders", "tiny", "--library", lib).stdout.splitlines()[2].split()[1]
    res = vae("preset", "save", "tiny", "warm pad", "--slider", "1=0.9", "--library", lib)
    assert res.returncode == 0, res.stderr
    assert f"{first}=0.9" in res.stdout
    shown = vae("preset", "show", "tiny", "warm pad", "--library", lib).stdout.splitlines()
    assert shown[1].split()[0] == "1" and shown[1].split()[-1] == "0.9"
    assert all(ln.split()[-1] == "0.5" for ln in shown[2:])
    assert vae("preset", "list", "tiny", "--library", lib).stdout.split("\n")[0] == "warm pad"
    bad = vae("preset", "save", "tiny", "x", "--slider", "sparkle=0.5", "--library", lib)
    assert bad.returncode == 2 and "'sparkle'" in bad.stderr
    bad = vae("preset", "save", "tiny", "x", "--slider", f"{first}=1.5", "--library", lib)
    assert bad.returncode == 2 and f"'{first}'" in bad.stderr and "0..1" in bad.stderr
    assert vae("preset", "delete", "tiny", "warm pad", "--library", lib).returncode == 0
    gone = vae("preset", "show", "tiny", "warm pad", "--library", lib)
    assert gone.returncode == 2 and "no preset called 'warm pad'" in gone.stderr


def test_render_wav_length_and_ogg_metadata(setup, tmp_path: Path) -> None:
    """render writes a 48 kHz 24-bit WAV of the asked length, and an Ogg Vorbis file whose
    title, comment and software tags name the model, its slider values and bassd."""
    lib, _, _ = setup
    wav = tmp_path / "a.wav"
    res = vae("render", "--model", "tiny", "--seconds", "0.5", "--out", wav, "--library", lib)
    assert res.returncode == 0, res.stderr
    assert str(wav) in res.stdout
    info = sf.info(wav)
    assert (info.samplerate, info.channels, info.frames) == (48000, 2, 24000)
    assert info.subtype == "PCM_24"
    ogg = tmp_path / "b.ogg"
    res = vae("render", "--model", "tiny", "--slider", "1=0.8", "--seconds", "0.5",
              "--out", ogg, "--library", lib)  # fmt: skip
    assert res.returncode == 0, res.stderr
    with sf.SoundFile(ogg) as f:
        assert (f.format, f.subtype, f.samplerate) == ("OGG", "VORBIS", 48000)
        assert f.title == "tiny"
        assert f.comment.startswith("bassd vae: model tiny, sliders ")
        assert "=0.8 " in f.comment or f.comment.endswith("=0.8")
        assert f.software.startswith("bassd")
    bad = vae("render", "--model", "tiny", "--seconds", "1", "--out", tmp_path / "c.aac",
              "--library", lib)  # fmt: skip
    assert bad.returncode == 2 and ".ogg" in bad.stderr


def test_vae_cli_does_not_import_torch() -> None:
    """Building the CLI parser (all families, vae included) imports no torch."""
    code = "import sys; from bassd.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.stdout.strip() == "False", res.stderr
