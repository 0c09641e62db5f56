"""Training the mel VAE on a folder of files: loading, errors, loss, resume, early stop, model.pt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bassd.app.vae_data_io import load_audio_dir  # noqa: E402
from bassd.dsp.mel import MelSpec  # noqa: E402
from bassd.models.vae import MelVae, VaeConfig  # noqa: E402
from bassd.models.vae_data import build_patches  # noqa: E402
from bassd.models.vae_train import (  # noqa: E402
    EpochStats,
    encode_patches,
    load_model,
    pick_device,
    train_vae,
)
from tests.models.vae_data_files import write_set  # noqa: E402

torch.set_num_threads(1)

SPEC = MelSpec()
TINY = VaeConfig(latent=4, channels=(8, 16, 32), kl_warmup_epochs=2)


def _write_set(folder: Path) -> Path:
    """Six files: harmonic tones (1/k, 6 harmonics) on different fundamentals, white and
    brown noise."""
    return write_set(folder, harmonics=6, tilt=False)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_set(tmp_path_factory.mktemp("vae") / "audio")


@pytest.fixture(scope="module")
def data(data_dir: Path) -> tuple[list[np.ndarray], list[str]]:
    logmels, names, skipped, seconds = load_audio_dir(data_dir, SPEC)
    assert skipped == [] and len(names) == 6 and abs(seconds - 24.0) < 0.01
    return logmels, names


@pytest.fixture(scope="module")
def trained(data: tuple[list[np.ndarray], list[str]], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("vae") / "run"
    seen: list[EpochStats] = []
    res = train_vae(
        *data,
        out,
        spec_dict=SPEC.to_dict(),
        config=TINY,
        epochs=10,
        device="cpu",
        progress=seen.append,
    )
    return res, seen


def test_load_audio_dir_gives_log_mels_per_file(data: tuple[list[np.ndarray], list[str]]) -> None:
    """Each file becomes a float32 (n_mels, 1 + n // hop) natural-log mel, in name order."""
    logmels, names = data
    assert names == [f"take{i}.wav" for i in range(6)]
    assert all(lm.shape == (80, 1 + 4 * 24000 // 256) and lm.dtype == np.float32 for lm in logmels)
    assert all(np.all(lm >= np.log(SPEC.log_floor) - 1e-4) for lm in logmels)


def test_training_lowers_the_loss(trained) -> None:
    """Ten epochs on six 4-s files halve the training recon loss and cut the held-out loss (an unseen pitch) by a quarter."""
    res, seen = trained
    assert [s.epoch for s in seen] == list(range(1, 11))  # the callable is called every epoch
    first, last = res.history[0], res.history[-1]
    assert last["recon"] < 0.5 * first["recon"]
    assert res.best_held_out < 0.75 * first["held_out"]
    assert all(np.isfinite([h["loss"], h["kl"], h["held_out"]]).all() for h in res.history)
    assert res.epochs_run == 10 and res.stop_reason == "epochs"
    assert len(res.held_out_files) == 1 and len(res.train_files) == 5  # round(0.15 * 6) -> 1


def test_outputs_written_and_model_loads_and_encodes(trained, data) -> None:
    """model.pt loads back (best weights, stats, spec) and encodes patches; config.json summarises the run."""
    res, _ = trained
    out = res.out_dir
    assert {p.name for p in out.iterdir()} == {"checkpoint.pt", "model.pt", "config.json"}
    summary = json.loads((out / "config.json").read_text())
    assert summary["epochs_run"] == 10 and summary["best_epoch"] == res.best_epoch
    assert summary["held_out_files"] == res.held_out_files and summary["seconds"] == 24.0
    assert len(summary["history"]) == 10 and summary["spec"] == SPEC.to_dict()

    model, meta = load_model(out)
    assert isinstance(model, MelVae) and not model.training
    assert meta["config"] == TINY and meta["spec"] == SPEC.to_dict()
    assert abs(float(model.norm_mean) - meta["stats"].mean) < 1e-5
    patches = build_patches(data[0], 32, 16)
    mu = encode_patches(model, patches)
    assert mu.shape == (patches.shape[0], 4) and np.isfinite(mu).all()
    assert mu.std(axis=0).max() > 0.05  # different patches, different latents
    ckpt = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)
    best = ckpt["best_state"]
    assert all(torch.equal(best[k], v) for k, v in model.state_dict().items())


def test_resume_equals_uninterrupted(data, tmp_path: Path) -> None:
    """3 epochs then resume to 6 ends bit-identical to 6 epochs in one go (weights, optimizer, history)."""
    kw = dict(spec_dict=SPEC.to_dict(), config=TINY, device="cpu", seed=3, progress=lambda s: None)
    full = train_vae(*data, tmp_path / "full", epochs=6, **kw)
    part = train_vae(*data, tmp_path / "part", epochs=3, **kw)
    assert part.epochs_run == 3
    resumed = train_vae(*data, tmp_path / "part", epochs=6, resume=True, **kw)
    assert resumed.history == full.history and resumed.best_epoch == full.best_epoch
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)
    assert a["epoch"] == b["epoch"] == 6
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])
    assert a["sampler"] == b["sampler"]
    ma = torch.load(tmp_path / "full" / "model.pt", weights_only=True)["state_dict"]
    mb = torch.load(tmp_path / "part" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(v, mb[k]) for k, v in ma.items())


def test_resume_refuses_a_different_setup(data, tmp_path: Path) -> None:
    """Resuming with another config than the checkpoint's is refused, naming what differs."""
    kw = dict(spec_dict=SPEC.to_dict(), device="cpu", progress=lambda s: None)
    train_vae(*data, tmp_path, config=TINY, epochs=1, **kw)
    other = VaeConfig(latent=5, channels=(8, 16, 32))
    with pytest.raises(ValueError, match="different config"):
        train_vae(*data, tmp_path, config=other, epochs=2, resume=True, **kw)


def test_early_stopping_when_held_out_plateaus(data, tmp_path: Path) -> None:
    """With lr = 0 the held-out loss never improves after epoch 1: patience 2 stops at epoch 3 of 50."""
    res = train_vae(
        *data,
        tmp_path,
        spec_dict=SPEC.to_dict(),
        config=TINY,
        epochs=50,
        lr=0.0,
        patience=2,
        device="cpu",
        progress=None,  # the tqdm bar (off: not a TTY)
    )
    assert res.stop_reason == "early_stop" and res.epochs_run == 3 and res.best_epoch == 1
    assert json.loads((tmp_path / "config.json").read_text())["stop_reason"] == "early_stop"


def test_unreadable_file_is_skipped_and_the_rest_train(data_dir: Path, tmp_path: Path) -> None:
    """A text file named .wav is reported in skipped with its name; the six good files still train."""
    folder = tmp_path / "audio"
    shutil.copytree(data_dir, folder)
    (folder / "broken.wav").write_text("not audio at all\n")
    (folder / "notes.txt").write_text("ignored: not an audio suffix\n")
    logmels, names, skipped, _ = load_audio_dir(folder, SPEC)
    assert len(skipped) == 1 and skipped[0][0].name == "broken.wav"
    assert "broken.wav" in skipped[0][1]
    assert "broken.wav" not in names and len(names) == 6
    res = train_vae(
        logmels,
        names,
        tmp_path / "run",
        spec_dict=SPEC.to_dict(),
        config=TINY,
        epochs=1,
        device="cpu",
        progress=lambda s: None,
    )
    assert res.epochs_run == 1 and (tmp_path / "run" / "model.pt").is_file()


def test_too_few_files_or_too_little_audio_refused(data, tmp_path: Path) -> None:
    """3 files: 'need at least 5 audio files, found 3'; 6 files of 1 s: says how much is needed and found."""
    logmels, names = data
    kw = dict(spec_dict=SPEC.to_dict(), config=TINY, device="cpu")
    with pytest.raises(ValueError, match="need at least 5 audio files, found 3"):
        train_vae(logmels[:3], names[:3], tmp_path, **kw)
    short = [lm[:, :94] for lm in logmels]  # about 1 s each
    with pytest.raises(ValueError, match=r"too little audio: need at least 20 s .* found 6\.0 s"):
        train_vae(short, names, tmp_path, **kw)
    assert not (tmp_path / "checkpoint.pt").exists()


def test_auto_device_falls_back_to_cpu() -> None:
    """auto picks cuda, then mps, else cpu; unknown names are refused."""
    expect = "cuda" if torch.cuda.is_available() else None
    assert pick_device("auto").type in ({expect} if expect else {"cpu", "mps"})
    assert pick_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        pick_device("tpu")
