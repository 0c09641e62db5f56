"""transformers' own MusicGen ``generate``: the reference our decode loop is measured and
tested against (greedy, with classifier-free guidance)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def stock_greedy(
    mg: Any, prompt: str, frames: int, guidance: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Run ``mg.model.generate(do_sample=False, guidance_scale=guidance)`` for ``frames`` code
    frames: (the codes it hands to EnCodec (K, frames), its audio (samples, channels),
    wall seconds)."""
    import torch

    model = mg.model
    seen: list[Any] = []
    decode = model.audio_encoder.decode

    def spy(codes: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(codes.clone())
        return decode(codes, *args, **kwargs)

    model.audio_encoder.decode = spy
    try:
        inputs = mg.processor(text=[prompt], padding=True, return_tensors="pt")
        t0 = time.perf_counter()
        with torch.inference_mode():
            audio = model.generate(**inputs, do_sample=False, guidance_scale=guidance,
                                   max_new_tokens=frames + mg.max_delay)  # fmt: skip
        seconds = time.perf_counter() - t0
    finally:
        del model.audio_encoder.decode
    if mg.channels == 2:  # left and right are decoded separately: interleave them back
        left, right = seen[0][0, 0], seen[1][0, 0]
        codes = torch.stack([left, right], dim=1).reshape(-1, left.shape[-1])
    else:
        codes = seen[0][0, 0]
    return codes.numpy(), audio[0].numpy().T, seconds
