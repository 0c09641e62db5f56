"""Train the mel VAE on a musician's own files: split, normalise, augment, early-stop,
checkpoint and resume (:func:`train_vae`); load the result back (:func:`load_model`) and
encode patches for the PCA step (:func:`encode_patches`).

The caller decodes the audio (``bassd.app.vae_data_io.load_audio_dir``) and hands in one
log-mel array per file; no audio is read here. Steps of :func:`train_vae`:

1. checks: at least 5 files, at least :data:`MIN_SECONDS` of audio and
   :data:`MIN_PATCHES` patches (hop ``frames // 4``);
2. split by file: ``max(1, round(held_out * n))`` files (seeded, among those at least one
   patch long) are held out for early stopping, the rest train;
3. normalisation: one mean and std over every value of the training files, stored in the
   model's buffers;
4. each epoch draws as many random patches as the training files have fixed ones
   (:class:`~bassd.models.vae_data.PatchSampler`: random start frames), augments them
   (:func:`~bassd.models.vae_data.augment`), and takes Adam steps on
   :func:`~bassd.models.vae.vae_loss` with the KL weight warmed up over
   ``kl_warmup_epochs``; then the held-out recon loss (z = mu, no augmentation, fixed
   patches at hop ``frames // 2``);
5. ``out_dir/checkpoint.pt`` every epoch (everything needed to continue: model, optimizer,
   sampler and RNG states, history, best weights), ``out_dir/model.pt`` whenever the
   held-out loss improves (what the renderer loads), ``out_dir/config.json`` every epoch (a
   human-readable summary); each written to a temporary file and moved into place;
6. stop after ``epochs`` or when the held-out loss has not improved for ``patience``
   epochs.

``resume=True`` continues from ``checkpoint.pt`` to the state an uninterrupted run with the
same arguments reaches (bit for bit on CPU): all randomness is torch's global generator and
the sampler's numpy generator, both restored.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bassd.models.vae import MelVae, VaeConfig, kl_beta, vae_loss
from bassd.models.vae_data import (
    AugmentConfig,
    NormStats,
    PatchSampler,
    augment,
    build_patches,
    count_patches,
    norm_stats,
)

__all__ = [
    "MIN_FILES",
    "MIN_PATCHES",
    "MIN_SECONDS",
    "EpochStats",
    "TrainResult",
    "encode_patches",
    "load_model",
    "pick_device",
    "train_vae",
]

MIN_FILES = 5
MIN_SECONDS = 20.0
MIN_PATCHES = 64
MODEL_FORMAT = "bassd-mel-vae"
MODEL_VERSION = 1
CHECKPOINT_NAME, MODEL_NAME, SUMMARY_NAME = "checkpoint.pt", "model.pt", "config.json"


@dataclass(frozen=True)
class EpochStats:
    """One epoch's figures (``epoch`` counts from 1); losses are per element."""

    epoch: int
    epochs: int
    loss: float  # training total (recon + beta * kl), augmented patches
    recon: float
    kl: float
    beta: float
    held_out: float  # held-out recon loss, z = mu
    best_held_out: float
    best_epoch: int


@dataclass
class TrainResult:
    out_dir: Path
    model_path: Path
    epochs_run: int
    best_epoch: int
    best_held_out: float
    stop_reason: str  # "epochs" or "early_stop"
    history: list[dict[str, float]]
    train_files: list[str]
    held_out_files: list[str]
    seconds: float
    device: str
    stats: dict[str, float] = field(default_factory=dict)


def pick_device(device: str) -> torch.device:
    """``auto``: cuda if available, then mps, else cpu; otherwise the named one."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be auto, cpu, cuda or mps, got {device!r}")
    return torch.device(device)


def _atomic_save(obj: Any, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_json(obj: Any, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_data(
    logmels: Sequence[np.ndarray], names: Sequence[str], cfg: VaeConfig, seconds: float
) -> int:
    """Raise ValueError for too few files or too little audio; return the patch count."""
    if len(logmels) != len(names):
        raise ValueError(f"{len(logmels)} log-mel arrays but {len(names)} names")
    if len(logmels) < MIN_FILES:
        raise ValueError(f"need at least {MIN_FILES} audio files, found {len(logmels)}")
    for name, lm in zip(names, logmels, strict=True):
        if lm.ndim != 2 or lm.shape[0] != cfg.n_mels:
            raise ValueError(f"{name}: log-mel shape {lm.shape}, expected ({cfg.n_mels}, T)")
    hop = max(1, cfg.frames // 4)
    patches = sum(count_patches(lm.shape[1], cfg.frames, hop) for lm in logmels)
    if seconds < MIN_SECONDS or patches < MIN_PATCHES:
        raise ValueError(
            f"too little audio: need at least {MIN_SECONDS:g} s and {MIN_PATCHES} patches of "
            f"{cfg.frames} frames, found {seconds:.1f} s in {len(logmels)} files giving "
            f"{patches} patches"
        )
    return patches


def _split(n_frames: Sequence[int], frames: int, held_out: float, seed: int) -> list[int]:
    """Indices of the held-out files: max(1, round(held_out * n)) of those >= one patch."""
    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must lie in (0, 1), got {held_out}")
    n = len(n_frames)
    k = min(max(1, round(held_out * n)), n - 1)
    eligible = [i for i, t in enumerate(n_frames) if t >= frames]
    if len(eligible) < 2:
        raise ValueError(f"need at least 2 files of {frames} frames or more")
    k = min(k, len(eligible) - 1)
    perm = np.random.default_rng(seed).permutation(len(eligible))
    return sorted(eligible[int(i)] for i in perm[:k])


def _rng_states() -> dict[str, Any]:
    np_state = np.random.get_state(legacy=False)
    out: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": torch.from_numpy(np.asarray(np_state["state"]["key"], dtype=np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def _set_rng_states(s: dict[str, Any]) -> None:
    torch.set_rng_state(s["torch"])
    n = s["numpy"]
    np.random.set_state(
        {
            "bit_generator": n["bit_generator"],
            "state": {"key": n["key"].numpy().astype(np.uint32), "pos": n["pos"]},
            "has_gauss": n["has_gauss"],
            "gauss": n["gauss"],
        }
    )
    py = s["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def _cpu_state(model: MelVae) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _held_out_loss(model: MelVae, patches: torch.Tensor, batch: int) -> float:
    """Mean squared error per element of decode(mu) on normalised patches (N, 1, M, F)."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, patches.shape[0], batch):
            x = patches[i : i + batch]  # (b, 1, n_mels, frames)
            mu, _ = model.encode(x)
            total += float(torch.sum((model.decode(mu) - x) ** 2))
    return total / patches.numel()


def train_vae(
    logmels: Sequence[np.ndarray],
    names: Sequence[str],
    out_dir: Path,
    *,
    spec_dict: dict[str, Any],
    config: VaeConfig | None = None,
    epochs: int = 200,
    batch: int = 32,
    lr: float = 1e-3,
    device: str = "auto",
    seed: int = 0,
    resume: bool = False,
    patience: int = 20,
    held_out: float = 0.15,
    augment_config: AugmentConfig | None = None,
    progress: Callable[[EpochStats], None] | None = None,
) -> TrainResult:
    """Train on ``logmels`` (one (n_mels, T) array per file, raw natural-log mel) named by
    ``names``; see the module for the steps. ``progress``: called after every epoch; when
    None a tqdm bar over the epochs (loss, held-out, ETA) shows on a TTY only.
    ``augment_config``: None for the defaults (±6 dB, ±2 semitones, mix 0.5). ``resume``
    with no ``checkpoint.pt`` in ``out_dir`` starts afresh; one made with other data names,
    config, spec, seed, batch, lr, split or augmentation is refused (ValueError)."""
    from bassd.dsp.mel import MelSpec, mel_edges_hz

    cfg = config if config is not None else VaeConfig()
    aug = augment_config if augment_config is not None else AugmentConfig()
    spec = MelSpec.from_dict(spec_dict)
    if spec.n_mels != cfg.n_mels:
        raise ValueError(f"spec has n_mels={spec.n_mels} but the config {cfg.n_mels}")
    if epochs < 1 or batch < 1 or lr < 0 or patience < 1:
        raise ValueError("need epochs >= 1, batch >= 1, lr >= 0 and patience >= 1")
    names = [str(n) for n in names]
    # T = 1 + n // hop frames per file (dsp/mel.py): (T - 1) hops, to within one hop
    seconds = sum(lm.shape[1] - 1 for lm in logmels) * spec.hop / spec.sample_rate
    _check_data(logmels, names, cfg, seconds)

    held_idx = _split([lm.shape[1] for lm in logmels], cfg.frames, held_out, seed)
    train_idx = [i for i in range(len(logmels)) if i not in held_idx]
    train_lm = [np.asarray(logmels[i], dtype=np.float32) for i in train_idx]
    held_lm = [np.asarray(logmels[i], dtype=np.float32) for i in held_idx]
    stats = norm_stats(train_lm)
    n_train_patches = sum(
        count_patches(lm.shape[1], cfg.frames, cfg.frames // 4 or 1) for lm in train_lm
    )
    steps = max(1, round(n_train_patches / batch))

    dev = pick_device(device)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path, model_path = out_dir / CHECKPOINT_NAME, out_dir / MODEL_NAME

    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    model = MelVae(cfg)
    model.norm_mean.fill_(stats.mean)
    model.norm_std.fill_(stats.std)
    model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sampler = PatchSampler(train_lm, cfg.frames, seed)
    centres = torch.from_numpy(mel_edges_hz(spec)[1:-1].astype(np.float32))  # (n_mels,)
    held = build_patches(held_lm, cfg.frames, max(1, cfg.frames // 2))  # (N, n_mels, frames)
    held_t = model.normalise(torch.from_numpy(held).to(dev))[:, None]  # (N, 1, n_mels, frames)

    identity = {
        "names": names,
        "config": asdict(cfg),
        "spec": spec.to_dict(),
        "seed": seed,
        "batch": batch,
        "lr": lr,
        "held_out": held_out,
        "augment": aug.to_dict(),
    }
    history: list[dict[str, float]] = []
    best, best_epoch, since_best = math.inf, 0, 0
    best_state = _cpu_state(model)
    start, stop_reason = 0, "epochs"
    if resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        if ck["identity"] != identity:
            diff = sorted(k for k in identity if ck["identity"].get(k) != identity[k])
            raise ValueError(f"{ckpt_path}: made with different {', '.join(diff)}; cannot resume")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sampler.set_state(ck["sampler"])
        _set_rng_states(ck["rng"])
        history, best, best_epoch = ck["history"], ck["best_held_out"], ck["best_epoch"]
        since_best, best_state, start = ck["since_best"], ck["best_state"], ck["epoch"]
        if ck["stop_reason"] == "early_stop":
            start, stop_reason = epochs, "early_stop"

    def summary() -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "files": names,
            "train_files": [names[i] for i in train_idx],
            "held_out_files": [names[i] for i in held_idx],
            "seconds": round(seconds, 3),
            "epochs_requested": epochs,
            "epochs_run": len(history),
            "best_epoch": best_epoch,
            "best_held_out": best if math.isfinite(best) else None,
            "stop_reason": stop_reason,
            "last": history[-1] if history else None,
            "device": str(dev),
            **{k: v for k, v in identity.items() if k != "names"},
            "stats": stats.to_dict(),
            "history": history,
        }

    bar = None
    if progress is None:
        from tqdm import tqdm

        bar = tqdm(total=epochs, initial=start, unit="epoch", disable=not sys.stderr.isatty())
    try:
        for epoch in range(start, epochs):
            beta = kl_beta(cfg, epoch)
            model.train()
            sums = np.zeros(3)
            for _ in range(steps):
                raw = torch.from_numpy(sampler.draw(batch)).to(dev)  # (B, n_mels, frames)
                x = model.normalise(augment(raw, aug, centres, spec.log_floor))[:, None]
                x_hat, mu, logvar = model(x)  # (B, 1, n_mels, frames), (B, latent) x 2
                total, recon, kl = vae_loss(x, x_hat, mu, logvar, beta)
                opt.zero_grad(set_to_none=True)
                total.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                opt.step()
                sums += [float(total.detach()), float(recon.detach()), float(kl.detach())]
            loss, rec, kl_m = (sums / steps).tolist()
            ho = _held_out_loss(model, held_t, max(batch, 64))
            if ho < best:
                best, best_epoch, since_best = ho, epoch + 1, 0
                best_state = _cpu_state(model)
                _atomic_save(
                    _model_payload(best_state, cfg, stats, spec.to_dict(), summary), model_path
                )
            else:
                since_best += 1
            history.append(
                {
                    "epoch": epoch + 1,
                    "loss": loss,
                    "recon": rec,
                    "kl": kl_m,
                    "beta": beta,
                    "held_out": ho,
                }
            )
            if since_best >= patience:
                stop_reason = "early_stop"
            _atomic_save(
                {
                    "identity": identity,
                    "epoch": epoch + 1,
                    "model": _cpu_state(model),
                    "optimizer": opt.state_dict(),
                    "sampler": sampler.state(),
                    "rng": _rng_states(),
                    "history": history,
                    "best_held_out": best,
                    "best_epoch": best_epoch,
                    "since_best": since_best,
                    "best_state": best_state,
                    "stop_reason": stop_reason,
                },
                ckpt_path,
            )
            _atomic_json(summary(), out_dir / SUMMARY_NAME)
            es = EpochStats(epoch + 1, epochs, loss, rec, kl_m, beta, ho, best, best_epoch)
            if progress is not None:
                progress(es)
            elif bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}", held_out=f"{ho:.4f}", best=best_epoch)
            if stop_reason == "early_stop":
                break
    finally:
        if bar is not None:
            bar.close()
    # model.pt again at the end, so its summary is the final one
    _atomic_save(_model_payload(best_state, cfg, stats, spec.to_dict(), summary), model_path)
    _atomic_json(summary(), out_dir / SUMMARY_NAME)
    return TrainResult(
        out_dir=out_dir,
        model_path=model_path,
        epochs_run=len(history),
        best_epoch=best_epoch,
        best_held_out=best,
        stop_reason=stop_reason,
        history=history,
        train_files=[names[i] for i in train_idx],
        held_out_files=[names[i] for i in held_idx],
        seconds=seconds,
        device=str(dev),
        stats=stats.to_dict(),
    )


def _model_payload(
    state: dict[str, torch.Tensor],
    cfg: VaeConfig,
    stats: NormStats,
    spec: dict[str, Any],
    summary: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    s = summary()
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "state_dict": state,
        "config": asdict(cfg),
        "stats": stats.to_dict(),
        "spec": spec,
        "summary": {k: v for k, v in s.items() if k != "history"},
    }


def load_model(folder: str | os.PathLike[str]) -> tuple[MelVae, dict[str, Any]]:
    """The best model of a training folder (``model.pt``) in eval mode on the CPU, and its
    metadata: ``config`` (VaeConfig), ``stats`` (NormStats), ``spec`` (MelSpec dict),
    ``summary`` (as config.json, without the history)."""
    path = Path(folder) / MODEL_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (train a model into {folder} first)")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path}: not a bassd mel VAE (format {payload.get('format')!r})")
    cfg = VaeConfig(**payload["config"])
    model = MelVae(cfg)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    meta = {
        "config": cfg,
        "stats": NormStats.from_dict(payload["stats"]),
        "spec": dict(payload["spec"]),
        "summary": payload["summary"],
    }
    return model, meta


def encode_patches(model: MelVae, patches: np.ndarray, batch: int = 256) -> np.ndarray:
    """mu (N, latent) float32 of raw log-mel patches (N, n_mels, frames) (normalised here
    with the model's stats), in eval mode on the model's device."""
    if patches.ndim != 3:
        raise ValueError(f"expected patches (N, n_mels, frames), got {patches.shape}")
    dev = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[np.ndarray] = []
    with torch.no_grad():
        for i in range(0, patches.shape[0], batch):
            x = torch.from_numpy(np.asarray(patches[i : i + batch], dtype=np.float32)).to(dev)
            mu, _ = model.encode(model.normalise(x)[:, None])  # (b, latent)
            out.append(mu.cpu().numpy())
    model.train(was_training)
    if not out:
        return np.zeros((0, model.config.latent), dtype=np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)
