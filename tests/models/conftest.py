"""Tiny randomly initialised MusicGen checkpoints, saved once per test session and loaded
through the same path as real weights."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bassd.models.random_init import write_random_musicgen

    return write_random_musicgen(tmp_path_factory.mktemp("musicgen") / "tiny", "tiny", seed=0)


@pytest.fixture(scope="session")
def tiny_stereo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bassd.models.random_init import write_random_musicgen

    out = tmp_path_factory.mktemp("musicgen") / "tiny-stereo"
    return write_random_musicgen(out, "tiny", seed=1, stereo=True)


@pytest.fixture(scope="session")
def vae_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library holding ``tiny`` (and ``tiny2``, another seed): mel VAEs trained for a few
    epochs on six synthetic files, sliders fitted, registered: what bassd vae train makes."""
    import torch

    from bassd.app.vae_data_io import load_audio_dir
    from bassd.dsp.mel import MelSpec
    from bassd.models.vae import VaeConfig
    from bassd.models.vae_library import VaeLibrary
    from bassd.models.vae_pipeline import compute_sliders
    from bassd.models.vae_train import train_vae
    from tests.models.vae_data_files import write_set

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("vae-library")
    spec = MelSpec()
    logmels, names, _, _ = load_audio_dir(write_set(root / "audio"), spec)
    lib = VaeLibrary(root / "lib")
    for name, seed in (("tiny", 0), ("tiny2", 1)):
        folder = lib.root / name
        train_vae(logmels, names, folder, spec_dict=spec.to_dict(), seed=seed, epochs=12,
                  config=VaeConfig(latent=4, channels=(8, 16, 32), kl_warmup_epochs=2),
                  device="cpu", progress=lambda _s: None)  # fmt: skip
        compute_sliders(folder, logmels, steps=5, bases=2)
        lib.register(name, {"n_files": len(names), "seconds_of_audio": 24.0})
    return lib.root
