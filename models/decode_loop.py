"""MusicGen's decoder as one step function over a pre-allocated KV cache.

``MusicgenForConditionalGeneration.generate`` builds a growing ``DynamicCache``
(every step concatenates onto every layer's keys and values), runs the
cross-attention projections of the unconditional half of classifier-free
guidance on an all-zero encoder state, and goes through the generic logits
processors; it cannot use transformers' StaticCache. This module runs the same
arithmetic with the model's own weights (read from its modules, so a LoRA blend
written into them is seen after :meth:`DecoderSteps.refresh`):

* a static KV cache, written in place at each position;
* CFG as one batch of two rows (conditional, unconditional) through every
  matrix product; the cross-attention only on the conditional row — the
  unconditional row's encoder state is zero, so its cross-attention output is
  exactly zero (no bias on the projections);
* the cross-attention keys and values of the text computed once per prompt;
* the four LM heads as one batched product.

The delay pattern (codebook k lags k steps; for stereo checkpoints the
interleaved left/right pairs share a delay) is applied here too, so a caller
gets the codes handed to EnCodec directly. No I/O, no config parsing.

Several prompts decode as one batch (``rows`` N: a render service batching concurrent
requests): 2N rows through every product, the conditional rows first, each prompt with
its own text, sampling, generator and length. One prompt is the case N = 1.

Shapes: N prompts, B = 2N (CFG rows: N conditional, then N unconditional), H heads,
T cache length, d head size, D model width, K codebooks, V vocabulary, S text tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Sampling:
    """How the next token is chosen from the guided logits."""

    greedy: bool = False
    temperature: float = 0.95
    top_k: int = 150
    top_p: float = 0.95
    guidance: float = 1.6


def _lin(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x (B, I) times w (O, I) transposed → (B, O), as ``w @ x.T``: on the CPU this
    matrix-times-thin-matrix runs about three times faster than ``F.linear`` with
    one or two rows (measured on the 2-core machine, fp32)."""
    return (w @ x.contiguous().T).T  # a row-major x: its transpose is what the kernel wants


def delay_offsets(num_codebooks: int, stereo: bool) -> list[int]:
    """Each codebook's delay in steps (stereo: left/right pairs share one)."""
    return [k // 2 if stereo else k for k in range(num_codebooks)]


def choose(logits: torch.Tensor, s: Sampling, gen: torch.Generator | None) -> torch.Tensor:
    """Next tokens from CFG logits (2, K, V) → (K,), as transformers' processors would."""
    cond, uncond = logits[0], logits[1]
    scores = uncond + (cond - uncond) * s.guidance if s.guidance > 1 else cond  # (K, V)
    if s.greedy:
        return scores.argmax(dim=-1)
    if s.temperature != 1.0:
        scores = scores / s.temperature
    if 0 < s.top_k < scores.shape[-1]:
        kth = torch.topk(scores, s.top_k, dim=-1).values[..., -1:]  # (K, 1)
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if s.top_p < 1.0:
        sorted_scores, idx = torch.sort(scores, descending=False, dim=-1)
        cum = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
        remove = cum <= (1 - s.top_p)
        remove[..., -1:] = False  # keep at least one
        scores = scores.masked_fill(remove.scatter(-1, idx, remove), float("-inf"))
    probs = scores.softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=gen).squeeze(-1)


class DecoderSteps:
    """The decoder of one ``MusicgenForConditionalGeneration``, one token column per step."""

    def __init__(
        self, model: Any, max_steps: int, *, rows: int = 1, fast_matmul: bool = True
    ) -> None:
        if rows < 1:
            raise ValueError(f"rows must be at least 1, not {rows}")
        self.model = model
        self.N = rows
        self._fast_matmul = fast_matmul
        dec = model.decoder.model.decoder
        cfg = model.decoder.config
        self.cfg = cfg
        self.K: int = cfg.num_codebooks
        self.V: int = cfg.vocab_size
        self.D: int = cfg.hidden_size
        self.H: int = cfg.num_attention_heads
        self.d: int = self.D // self.H
        self.pad: int = int(model.generation_config.pad_token_id or cfg.pad_token_id)
        self.stereo = cfg.audio_channels == 2
        self.offsets = delay_offsets(self.K, self.stereo)
        self.max_steps = max_steps
        self._dec = dec
        self.device = next(model.parameters()).device
        self.dtype = next(dec.parameters()).dtype
        # the matrix products as w @ x.T (3x faster in fp32 on the CPU) or F.linear (as
        # transformers; the faster one in bf16/fp16, where oneDNN's kernels take over)
        fast = self._fast_matmul and self.dtype == torch.float32 and self.device.type == "cpu"
        self._lin: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = (
            _lin if fast else (lambda w, x: F.linear(x, w))
        )
        self.refresh()
        L = len(dec.layers)
        # (L, 2, B, H, T, d): keys [0] and values [1] of every layer, written in place
        # empty, not zeros: position t is written before it is read, and untouched
        # pages cost nothing (a 30 s cache of musicgen-small is 590 MB)
        self._kv = torch.empty(
            (L, 2, 2 * rows, self.H, max_steps, self.d), dtype=self.dtype, device=self.device
        )
        self._cross: list[tuple[torch.Tensor, torch.Tensor]] = []

    def refresh(self) -> None:
        """Re-read the weights from the model's modules (after a LoRA blend)."""
        dec = self._dec
        self._emb = [e.weight for e in dec.embed_tokens]  # K x (V+1, D)
        n_pos = self.max_steps + 1
        if dec.embed_positions.weights.shape[0] < n_pos:
            dec.embed_positions.make_weights(n_pos, self.D)
        self._pos = dec.embed_positions.weights  # (P, D)
        self._layers = []
        for layer in dec.layers:
            sa, ca = layer.self_attn, layer.encoder_attn
            qkv = torch.cat([sa.q_proj.weight, sa.k_proj.weight, sa.v_proj.weight])  # (3D, D)
            self._layers.append(
                (
                    layer.self_attn_layer_norm, qkv, sa.out_proj.weight,
                    layer.encoder_attn_layer_norm, ca, ca.out_proj.weight,
                    layer.final_layer_norm, layer.fc1.weight, layer.fc2.weight,
                )
            )  # fmt: skip
        self._ln = dec.layer_norm
        # (K, V, D): the LM heads as one batched product
        self._heads = torch.stack([h.weight for h in self.model.decoder.lm_heads])

    # ------------------------------------------------------------ conditioning
    @torch.inference_mode()
    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> None:
        """Encode the N prompts (input_ids (N, S), padded) and cache the conditional rows'
        cross-attention K/V per layer."""
        if input_ids.shape[0] != self.N:
            raise ValueError(f"{input_ids.shape[0]} prompts for a decoder of {self.N} rows")
        m = self.model
        hidden = m.text_encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
        if hasattr(m, "enc_to_dec_proj"):
            hidden = m.enc_to_dec_proj(hidden)  # (N, S, D)
        hidden = (hidden * attention_mask[..., None]).to(self.dtype)
        self._text_mask = attention_mask.bool()[:, None, None, :]  # (N, 1, 1, S)
        self._cross = []
        N = self.N
        for layer in self._layers:
            ca = layer[4]
            k = ca.k_proj(hidden).view(N, -1, self.H, self.d).transpose(1, 2)  # (N, H, S, d)
            v = ca.v_proj(hidden).view(N, -1, self.H, self.d).transpose(1, 2)
            self._cross.append((k, v))

    # -------------------------------------------------------------------- step
    @torch.inference_mode()
    def step(self, tokens: torch.Tensor, t: int) -> torch.Tensor:
        """Logits (2N, K, V) for position t+1, given the token columns (N, K) (or (K,) for
        one prompt) at position t."""
        N, K = self.N, self.K
        tok = tokens.reshape(N, K)
        x: Any = 0
        for cb in range(K):
            x = x + F.embedding(tok[:, cb], self._emb[cb])  # (N, D)
        x = x + self._pos[t : t + 1]
        x = x.expand(2, self.D) if N == 1 else torch.cat([x, x])  # (B, D): CFG rows alike
        B, H, d, D, lin = 2 * N, self.H, self.d, self.D, self._lin
        for i, (ln1, qkv, o1, ln2, ca, o2, ln3, fc1, fc2) in enumerate(self._layers):
            h = F.layer_norm(x, (D,), ln1.weight, ln1.bias, ln1.eps)
            q, k, v = lin(qkv, h).reshape(B, 3, H, 1, d).unbind(1)  # 3 x (B, H, 1, d)
            cache = self._kv[i]
            cache[0, :, :, t : t + 1] = k
            cache[1, :, :, t : t + 1] = v
            a = F.scaled_dot_product_attention(q, cache[0, :, :, : t + 1], cache[1, :, :, : t + 1])
            x = x + lin(o1, a.reshape(B, D))
            # cross-attention: the conditional rows only (the others' output is exactly zero)
            h = F.layer_norm(x[:N], (D,), ln2.weight, ln2.bias, ln2.eps)  # (N, D)
            q = lin(ca.q_proj.weight, h).reshape(N, H, 1, d)
            ck, cv = self._cross[i]
            a = F.scaled_dot_product_attention(q, ck, cv, attn_mask=self._text_mask)
            x = torch.cat([x[:N] + lin(o2, a.reshape(N, D)), x[N:]])
            h = F.layer_norm(x, (D,), ln3.weight, ln3.bias, ln3.eps)
            x = x + lin(fc2, F.gelu(lin(fc1, h)))
        x = F.layer_norm(x, (D,), self._ln.weight, self._ln.bias, self._ln.eps)  # (B, D)
        # (K, V, D) @ (D, B) -> (K, V, B) -> (B, K, V)
        return torch.matmul(self._heads, x.T).permute(2, 0, 1).float()

    # --------------------------------------------------------------- the loop
    def columns(
        self,
        frames: int,
        sampling: Sampling,
        gen: torch.Generator | None = None,
        step: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
    ) -> Iterator[torch.Tensor]:
        """Generate ``frames`` audio frames of one prompt; yields each token column (K,) as
        produced, the delay pattern applied (pad where a codebook is not yet/no longer
        active).

        Column 0 is the start column (all pad); columns 1 … frames + max delay follow.
        """
        for cols in self.batch_columns([frames], [sampling], [gen], step):
            yield cols[0]

    def batch_columns(
        self,
        frames: list[int],
        samplings: list[Sampling],
        gens: list[torch.Generator | None],
        step: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
    ) -> Iterator[torch.Tensor]:
        """``columns`` for the N prompts at once: yields (N, K) per step, until the longest
        is done (a prompt whose frames are done gets pad columns)."""
        if not len(frames) == len(samplings) == len(gens) == self.N:
            raise ValueError(f"a decoder of {self.N} rows needs {self.N} frames/samplings/gens")
        step = step or self.step
        N = self.N
        n_steps = max(frames) + max(self.offsets)
        if n_steps > self.max_steps:
            raise ValueError(
                f"{max(frames)} frames need {n_steps} steps; the cache holds {self.max_steps}"
            )
        offs = torch.tensor(self.offsets, device=self.device)[None]  # (1, K)
        ends = torch.tensor(frames, device=self.device)[:, None] + offs  # (N, K)
        col = torch.full((N, self.K), self.pad, dtype=torch.long, device=self.device)
        for t in range(n_steps):
            logits = step(col, t)  # (2N, K, V)
            if N == 1:
                nxt = choose(logits, samplings[0], gens[0])[None]
            else:
                nxt = torch.stack([choose(logits[i :: N], samplings[i], gens[i])
                                   for i in range(N)])  # fmt: skip
            c = t + 1  # the column just predicted: active where offset < c <= frames + offset
            active = (c > offs) & (c <= ends)  # (N, K)
            col = torch.where(active, nxt, torch.full_like(nxt, self.pad))
            yield col


def undelay(columns: torch.Tensor, offsets: list[int], frames: int) -> torch.Tensor:
    """Codes (K, frames) from delayed token columns (K, 1 + frames + max offset)."""
    return torch.stack([columns[k, 1 + o : 1 + o + frames] for k, o in enumerate(offsets)])
