"""Training clips: audio files read, resampled, captioned and encoded to EnCodec codes.

Each file is read with soundfile (WAV, FLAC, OGG, MP3, AIFF), resampled to the
model's sampling rate with soxr, mixed to mono (or kept/duplicated to stereo for a
stereo checkpoint) and encoded once with the checkpoint's own frozen EnCodec, in
frame-aligned chunks so long files need little memory. Training crops are then
taken in code frames (:meth:`Clip.crop`). A file that cannot be used is reported
in ``skipped`` with the reason instead of stopping the run.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import structlog
import torch

from bassd.adapters.codes import min_frames
from bassd.adapters.lora_files import AdapterError

log = structlog.get_logger("bassd.adapters")

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")
#: audio encoded per EnCodec call (seconds); bounds the memory of long files
ENCODE_CHUNK_S = 30.0


@dataclass(frozen=True)
class Clip:
    """One training file: its caption and codes ``(K, frames)`` (K = decoder codebooks)."""

    path: Path
    text: str
    codes: torch.Tensor

    @property
    def frames(self) -> int:
        return int(self.codes.shape[-1])

    def crop(self, frames: int, rng: random.Random) -> torch.Tensor:
        """A random window of ``frames`` code frames (the whole clip if it is shorter)."""
        if self.frames <= frames:
            return self.codes
        start = rng.randrange(self.frames - frames + 1)
        return self.codes[:, start : start + frames]


def find_audio_files(audio_dir: Path) -> list[Path]:
    """Audio files (by suffix) under ``audio_dir``, recursively, in sorted order."""
    if not audio_dir.is_dir():
        raise AdapterError(f"audio folder {audio_dir} does not exist")
    return sorted(
        p for p in audio_dir.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
    )


def read_captions(csv_path: Path, audio_dir: Path) -> dict[Path, str]:
    """Captions from a CSV with header ``file,text`` (``file`` relative to ``audio_dir``)."""
    try:
        with csv_path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            fields = [h.strip() for h in reader.fieldnames or []]
            if "file" not in fields or "text" not in fields:
                raise AdapterError(
                    f"captions file {csv_path} needs a header 'file,text', got {fields}"
                )
            out: dict[Path, str] = {}
            for n, row in enumerate(reader, start=2):
                row = {(k or "").strip(): (v or "") for k, v in row.items()}
                name, text = row["file"].strip(), row["text"].strip()
                if not name or not text:
                    raise AdapterError(f"captions file {csv_path} line {n}: empty file or text")
                out[(audio_dir / name).resolve()] = text
            return out
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AdapterError(f"captions file {csv_path} is not readable: {exc}") from None


def read_audio(path: Path, sampling_rate: int, channels: int) -> np.ndarray:
    """``(channels, samples)`` float32 at ``sampling_rate``; raises on unreadable audio."""
    import soundfile as sf
    import soxr

    data, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (samples, ch)
    if data.shape[0] == 0:
        raise ValueError("no samples")
    if not np.isfinite(data).all():
        raise ValueError("non-finite samples")
    if sr != sampling_rate:
        data = soxr.resample(data, sr, sampling_rate, quality="HQ").astype(np.float32)
        data = data.reshape(-1, 1) if data.ndim == 1 else data
    if channels == 1:
        out = data.mean(axis=1, keepdims=True)
    elif data.shape[1] == 1:
        out = np.repeat(data, channels, axis=1)
    else:
        out = data[:, :channels]
    return np.ascontiguousarray(out.T, dtype=np.float32)


@torch.no_grad()
def encode_audio(model: Any, wave: np.ndarray, device: torch.device) -> torch.Tensor:
    """Codes ``(K, frames)`` of ``wave`` ``(C, samples)`` with the model's own EnCodec.

    A stereo checkpoint's mono EnCodec encodes each channel and the codebooks are
    interleaved (left 0, right 0, left 1, ...), as the stereo decoder expects.
    Codebooks beyond the decoder's (a higher codec bandwidth) are dropped: residual
    quantisation makes the first ones identical either way.
    """
    codec = model.audio_encoder
    decoder = model.decoder
    per_channel = decoder.num_codebooks // (2 if decoder.config.audio_channels == 2 else 1)
    hop = int(codec.config.hop_length)
    chunk = max(hop, int(ENCODE_CHUNK_S * codec.config.sampling_rate) // hop * hop)
    codec_ch = int(codec.config.audio_channels)
    groups = [wave] if codec_ch == wave.shape[0] else [wave[c : c + 1] for c in range(len(wave))]
    per_group: list[torch.Tensor] = []
    for g in groups:
        parts, start, n = [], 0, g.shape[1]
        while start < n:
            stop = n if n - start < chunk + chunk // 2 else start + chunk  # no short tail
            x = torch.from_numpy(g[:, start:stop]).to(device)[None]
            parts.append(codec.encode(x)["audio_codes"][0, 0])  # (nq, frames)
            start = stop
        c = torch.cat(parts, dim=-1)
        if c.shape[0] < per_channel:
            raise AdapterError(
                f"the checkpoint's EnCodec gives {c.shape[0]} codebooks, "
                f"its decoder needs {per_channel}"
            )
        per_group.append(c[:per_channel])
    if len(per_group) == 1:
        out = per_group[0]
    else:  # interleave the channels' codebooks
        out = torch.stack(per_group, dim=1).reshape(-1, per_group[0].shape[-1])
    return out.to("cpu", torch.long)


def load_clips(
    model: Any,
    audio_dir: Path,
    *,
    captions: Path | None,
    default_text: str,
    device: torch.device,
) -> tuple[list[Clip], list[tuple[Path, str]]]:
    """Every usable file of ``audio_dir`` as a :class:`Clip`, and ``(file, reason)`` for the rest.

    Raises :class:`AdapterError` when no file is usable, naming the folder and failures.
    """
    files = find_audio_files(audio_dir)
    texts = read_captions(captions, audio_dir) if captions is not None else {}
    sr = int(model.config.audio_encoder.sampling_rate)
    channels = 2 if model.decoder.config.audio_channels == 2 else 1
    need = min_frames(model.decoder)
    clips: list[Clip] = []
    skipped: list[tuple[Path, str]] = []
    for path in files:
        try:
            wave = read_audio(path, sr, channels)
            codes = encode_audio(model, wave, device)
            if codes.shape[-1] < need:
                raise ValueError(f"too short ({codes.shape[-1]} code frames, need {need})")
        except AdapterError:
            raise
        except Exception as exc:  # soundfile/soxr raise several types for bad files
            reason = f"{type(exc).__name__}: {exc}".strip()
            log.warning("adapter_audio_skipped", file=str(path), reason=reason)
            skipped.append((path, reason))
            continue
        clips.append(Clip(path=path, text=texts.get(path.resolve(), default_text), codes=codes))
    unused = set(texts) - {c.path.resolve() for c in clips} - {p.resolve() for p, _ in skipped}
    for p in sorted(unused):
        log.warning("adapter_caption_unused", file=str(p), reason="no such audio file")
    if not clips:
        failed = "; ".join(f"{p.name} ({why})" for p, why in skipped) or "no audio files found"
        raise AdapterError(
            f"no readable audio in {audio_dir} (suffixes {', '.join(AUDIO_SUFFIXES)}): {failed}"
        )
    return clips, skipped
