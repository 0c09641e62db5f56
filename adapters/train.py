"""Fine-tune a LoRA adapter on MusicGen's decoder from a folder of audio (resumable).

The recipe of ylacombe/musicgen-dreamboothing: LoRA (peft) on the decoder's
attention projections (self and cross), its feed-forward layers, every LM head and
the text-to-decoder projection (the T5 text encoder and EnCodec stay frozen);
the labels are the clip's EnCodec codes in MusicGen's delay pattern
(:mod:`bassd.adapters.codes`) and the loss is MusicGen's own: the mean over
codebooks of the cross-entropy of each (``MusicgenForConditionalGeneration``'s
forward with ``labels=``).

Output, in ``out_dir/<name>/``: the adapter (``adapter_config.json`` +
``adapter_model.safetensors``, peft's ``save_pretrained``), ``train_log.jsonl`` (one
JSON row per step: step, loss, lr, seconds) and ``checkpoint/`` (the adapter, the
optimizer state, the step and the random state), from which a second call with the
same ``out_dir`` and ``name`` continues up to ``steps``.
"""

from __future__ import annotations

import copy
import json
import math
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
import torch

from bassd.adapters.audio_clips import Clip, load_clips
from bassd.adapters.codes import delayed_labels, pad_labels
from bassd.adapters.lora_files import AdapterError
from bassd.adapters.model_io import load_musicgen, load_processor

log = structlog.get_logger("bassd.adapters")

DEFAULT_TEXT = "music"
LOG_FILE = "train_log.jsonl"
CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "trainer_state.pt"
LORA_DROPOUT = 0.05
GRAD_CLIP = 1.0


@dataclass
class TrainResult:
    """What :func:`train_adapter` did: the adapter folder, this call's per-step losses,
    the files skipped (with why), the total steps completed and where this call began."""

    path: Path
    losses: list[float]
    skipped: list[tuple[Path, str]]
    steps_done: int
    start_step: int = 0
    log_file: Path = field(default_factory=Path)


def decoder_targets(embeddings: bool = False) -> str:
    """peft ``target_modules`` regex (full-match on module paths) limited to the decoder."""
    layer = r"decoder\.model\.decoder\.layers\.\d+\."
    parts = [
        layer + r"(self_attn|encoder_attn)\.(q_proj|k_proj|v_proj|out_proj)",
        layer + r"(fc1|fc2)",
        r"decoder\.lm_heads\.\d+",
        r"enc_to_dec_proj",
    ]
    if embeddings:
        parts.append(r"decoder\.model\.decoder\.embed_tokens\.\d+")
    return "(" + "|".join(parts) + ")"


def _check_name(name: str) -> None:
    if not name or name in (".", "..") or any(c in name for c in "/\\") or name != name.strip():
        raise AdapterError(f"bad adapter name {name!r}: use a plain folder name like 'calm'")


def _batch(
    clips: list[Clip], idx: list[int], frames: int, rng: random.Random, decoder: Any
) -> tuple[list[str], torch.Tensor]:
    labels = [delayed_labels(decoder, clips[i].crop(frames, rng)[None])[0] for i in idx]
    return [clips[i].text for i in idx], pad_labels(labels)


def batch_loss(
    model: Any, processor: Any, texts: list[str], labels: torch.Tensor, device: torch.device
) -> torch.Tensor:
    """MusicGen's training loss for captions ``texts`` and delayed ``labels`` (B, L, K)."""
    enc = processor(text=texts, padding=True, return_tensors="pt")
    out = model(
        input_ids=enc["input_ids"].to(device),
        attention_mask=enc["attention_mask"].to(device),
        labels=labels.to(device),
    )
    return out.loss


@torch.no_grad()
def evaluate_loss(
    model: Any, processor: Any, clips: list[Clip], clip_frames: int, device: torch.device
) -> float:
    """Mean loss over ``clips`` (each its first ``clip_frames`` code frames), eval mode."""
    was_training = model.training
    model.eval()
    decoder = model.get_decoder() if hasattr(model, "get_decoder") else model.decoder
    total = 0.0
    for c in clips:
        labels = delayed_labels(decoder, c.codes[None, :, :clip_frames])
        total += float(batch_loss(model, processor, [c.text], labels, device))
    model.train(was_training)
    return total / len(clips)


class _Sampler:
    """Epochs over the clips in a seeded random order; its state goes into checkpoints."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.rng, self.pos = n, random.Random(seed), 0
        self.order: list[int] = []

    def take(self, k: int) -> list[int]:
        out: list[int] = []
        while len(out) < k:
            if self.pos >= len(self.order):
                self.order, self.pos = list(range(self.n)), 0
                self.rng.shuffle(self.order)
            out.append(self.order[self.pos])
            self.pos += 1
        return out

    def state(self) -> dict[str, Any]:
        return {"rng": self.rng.getstate(), "order": self.order, "pos": self.pos}

    def restore(self, s: dict[str, Any]) -> None:
        rng = s["rng"]
        self.rng.setstate((rng[0], tuple(rng[1]), rng[2]))
        self.order, self.pos = list(s["order"]), int(s["pos"])


def _settings(rank: int, alpha: float, targets: str, clip_frames: int) -> dict[str, Any]:
    return {"rank": rank, "alpha": float(alpha), "targets": targets, "clip_frames": clip_frames}


def _save_checkpoint(
    pm: Any, ckpt: Path, opt: torch.optim.Optimizer, step: int, sampler: _Sampler, meta: dict
) -> None:
    tmp = ckpt.with_name(ckpt.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pm.save_pretrained(str(tmp), save_embedding_layers=False)
    state = {
        "step": step,
        "optimizer": opt.state_dict(),
        "sampler": sampler.state(),
        "torch_rng": torch.get_rng_state(),
        "settings": meta,
    }
    torch.save(state, tmp / STATE_FILE)
    shutil.rmtree(ckpt, ignore_errors=True)
    tmp.rename(ckpt)


def _read_log(path: Path, upto: int) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and int(row.get("step", 0)) <= upto:
            rows.append(row)
    return rows


def train_adapter(
    model: Any,
    audio_dir: Path,
    name: str,
    *,
    out_dir: Path,
    captions: Path | None = None,
    default_text: str = DEFAULT_TEXT,
    steps: int = 200,
    rank: int = 16,
    alpha: float = 16,
    lr: float = 1e-4,
    clip_seconds: float = 10.0,
    batch_size: int = 1,
    checkpoint_every: int = 50,
    seed: int = 0,
    progress: bool = True,
    train_embeddings: bool = False,
    device: str | None = None,
) -> TrainResult:
    """Train (or continue training) adapter ``name`` on the audio in ``audio_dir``.

    ``model`` is a checkpoint folder / cached hub id, or a loaded
    ``MusicgenForConditionalGeneration`` (copied, never modified). Steps are global:
    a call with a ``checkpoint/`` in ``out_dir/<name>/`` resumes there and runs up to
    ``steps`` in total. Unreadable audio files are skipped with a warning (and listed
    in the result); none readable raises :class:`AdapterError`.
    """
    from peft import LoraConfig, PeftModel, get_peft_model

    _check_name(name)
    if steps < 0 or rank < 1 or alpha <= 0 or lr <= 0 or batch_size < 1 or checkpoint_every < 1:
        raise AdapterError("steps >= 0, rank >= 1, alpha > 0, lr > 0, batch_size >= 1 and "
                           "checkpoint_every >= 1 are required")  # fmt: skip
    if not clip_seconds > 0:
        raise AdapterError(f"clip_seconds must be positive, got {clip_seconds}")
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if isinstance(model, str | Path):
        mg, processor = load_musicgen(model), load_processor(model)
    else:
        mg, processor = copy.deepcopy(model), load_processor(model.name_or_path)
    mg.to(dev).eval()

    clips, skipped = load_clips(
        mg, Path(audio_dir), captions=captions, default_text=default_text, device=dev
    )
    codec_cfg = mg.config.audio_encoder
    clip_frames = max(1, math.ceil(clip_seconds * codec_cfg.sampling_rate / codec_cfg.hop_length))
    targets = decoder_targets(train_embeddings)
    meta = _settings(rank, alpha, targets, clip_frames)

    out = Path(out_dir) / name
    ckpt = out / CHECKPOINT_DIR
    log_path = out / LOG_FILE
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    sampler = _Sampler(len(clips), seed)
    start = 0
    state: dict[str, Any] | None = None
    if (ckpt / STATE_FILE).is_file():
        state = torch.load(ckpt / STATE_FILE, map_location="cpu", weights_only=True)
        assert state is not None
        if state["settings"] != meta:
            raise AdapterError(
                f"checkpoint {ckpt} was trained with {state['settings']}, this run asks for "
                f"{meta}; use the same settings or another --out/--name"
            )
        pm = PeftModel.from_pretrained(mg, str(ckpt), is_trainable=True)
        start = int(state["step"])
    else:
        config = LoraConfig(
            r=rank,
            lora_alpha=int(alpha) if float(alpha).is_integer() else alpha,  # type: ignore[arg-type]
            lora_dropout=LORA_DROPOUT,
            target_modules=targets,
        )
        pm = get_peft_model(mg, config)
    params = [p for p in pm.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr)
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        for g in opt.param_groups:
            g["lr"] = lr
        sampler.restore(state["sampler"])
        torch.set_rng_state(state["torch_rng"])
        log.info("adapter_training_resumed", name=name, step=start, checkpoint=str(ckpt))

    rows = _read_log(log_path, start) if state is not None else []
    with log_path.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)

    pm.train()
    mg.text_encoder.eval()  # frozen parts without dropout
    mg.audio_encoder.eval()
    losses: list[float] = []
    step = start
    from tqdm import tqdm

    bar = tqdm(total=steps, initial=min(start, steps), disable=not progress, desc=name)
    try:
        with log_path.open("a", encoding="utf-8") as logf:
            while step < steps:
                t0 = time.perf_counter()
                texts, labels = _batch(
                    clips, sampler.take(batch_size), clip_frames, sampler.rng, mg.decoder
                )
                loss = batch_loss(pm, processor, texts, labels, dev)
                if not torch.isfinite(loss):
                    raise AdapterError(f"loss became {float(loss)} at step {step + 1}; lower --lr")
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP)
                opt.step()
                opt.zero_grad(set_to_none=True)
                step += 1
                value = float(loss.detach())
                losses.append(value)
                row = {"step": step, "loss": value, "lr": lr,
                       "seconds": round(time.perf_counter() - t0, 4)}  # fmt: skip
                logf.write(json.dumps(row) + "\n")
                logf.flush()
                bar.update(1)
                bar.set_postfix(loss=f"{value:.3f}")
                if step % checkpoint_every == 0 and step < steps:
                    _save_checkpoint(pm, ckpt, opt, step, sampler, meta)
    finally:
        bar.close()
    if step != start or state is None:
        _save_checkpoint(pm, ckpt, opt, step, sampler, meta)
    pm.save_pretrained(str(out), save_embedding_layers=False)
    log.info("adapter_trained", name=name, path=str(out), steps=step, start=start,
             skipped=[str(p) for p, _ in skipped],
             last_loss=losses[-1] if losses else None)  # fmt: skip
    return TrainResult(
        path=out, losses=losses, skipped=skipped, steps_done=step, start_step=start,
        log_file=log_path,
    )  # fmt: skip
