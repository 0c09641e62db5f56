"""EnCodec codes → MusicGen training labels in the delay pattern MusicGen is trained on.

Codebook k of a clip of T frames is shifted right by k steps (stereo checkpoints:
the interleaved left/right pair of level k shares delay k), giving T + K_c - 1
positions (K_c codebooks per channel); the positions the pattern leaves empty are
``-100`` (ignored by the loss). The decoder's inputs are these labels shifted right
behind a BOS column (``shift_tokens_right``, done by the model's forward), so position
t is predicted from everything before it, exactly as in generation.
"""

from __future__ import annotations

from typing import Any

import torch

IGNORE = -100


def channel_codebooks(decoder: Any) -> int:
    """Codebooks per audio channel (the length of the delay ramp)."""
    k = int(decoder.num_codebooks)
    return k // 2 if int(decoder.config.audio_channels) == 2 else k


def min_frames(decoder: Any) -> int:
    """The shortest clip (code frames) whose delay pattern is built: one per codebook."""
    return channel_codebooks(decoder)


def delayed_labels(decoder: Any, codes: torch.Tensor) -> torch.Tensor:
    """Labels ``(B, T + K_c - 1, K)`` for codes ``(B, K, T)``, built with the decoder's own
    ``build_delay_pattern_mask``; empty pattern positions are ``-100``."""
    bsz, k, frames = codes.shape
    if k != decoder.num_codebooks:
        raise ValueError(f"codes have {k} codebooks, the decoder {decoder.num_codebooks}")
    kc = channel_codebooks(decoder)
    if frames < min_frames(decoder):
        raise ValueError(f"a clip of {frames} frames is shorter than the {kc}-step delay ramp")
    pad = int(decoder.config.pad_token_id)
    bos = torch.full((bsz, k, 1), int(decoder.config.bos_token_id), dtype=torch.long)
    ids = torch.cat([bos, codes.to(torch.long).cpu()], dim=-1).reshape(bsz * k, frames + 1)
    # with a full prompt the returned pattern mask *is* the delayed sequence: every
    # position holds a code or the pad token (no -1 left to predict)
    _, pattern = decoder.build_delay_pattern_mask(ids, pad, max_length=frames + kc)
    delayed = decoder.apply_delay_pattern_mask(pattern, pattern)
    delayed = delayed.reshape(bsz, k, frames + kc)[..., 1:]  # drop the BOS column
    if (delayed == -1).any():
        raise RuntimeError("delay pattern left positions unfilled")
    labels = delayed.masked_fill(delayed == pad, IGNORE)
    return labels.transpose(1, 2).contiguous()


def pad_labels(labels: list[torch.Tensor]) -> torch.Tensor:
    """Stack labels ``(L_i, K)`` of different lengths into ``(B, max L, K)`` padded with -100."""
    return torch.nn.utils.rnn.pad_sequence(labels, batch_first=True, padding_value=IGNORE)
