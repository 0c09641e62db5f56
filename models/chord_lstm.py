"""The next-chord LSTM in torch (training side): tokens, the module, and its export.

One token table covers both modes: per mode ``"<mode>:<start>"``, ``"<mode>:<unk>"`` and one
``"<mode>:<roman>"`` per chord of :func:`bassd.dsp.chords.vocabulary`, so ``"major:V7"`` and
``"minor:V7"`` are different tokens and one model learns both modes jointly. A context is the
start token followed by the history's chords, truncated to its last ``context`` tokens (so the
start token is seen only while the progression's beginning is still in the window).

Model: embedding (V, E) -> LSTM (E -> H, ``layers`` layers, dropout between layers) ->
dropout -> linear (H -> V). The logits of the last step are restricted to the target mode's
tokens (its chords and its ``<unk>`` during training; its chords only at prediction) and
softmaxed. Gate order and parameter names are torch's (``weight_ih_l0`` ...), which the
numpy inference in :mod:`bassd.models.chord_predictor` reproduces.

torch is imported by this module and the trainer only, never by the daemon. No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from bassd.dsp.chords import MODES, vocabulary

__all__ = ["LSTMConfig", "NextChordLSTM", "encode_context", "mode_mask", "token_table"]

START, UNK = "<start>", "<unk>"


def token_table() -> list[str]:
    """All tokens, both modes: per mode <start>, <unk>, then its vocabulary in order."""
    out: list[str] = []
    for mode in MODES:
        out += [f"{mode}:{START}", f"{mode}:{UNK}"]
        out += [f"{mode}:{c.roman}" for c in vocabulary(mode)]
    return out


def encode_context(
    history: Sequence[str], mode: str, index: dict[str, int], context: int
) -> list[int]:
    """Token ids of ``<start> + history`` in ``mode``, its last ``context`` tokens; a chord
    outside the mode's tokens becomes the mode's <unk>."""
    unk = index[f"{mode}:{UNK}"]
    ids = [index[f"{mode}:{START}"]] + [index.get(f"{mode}:{c}", unk) for c in history]
    return ids[-context:]


def mode_mask(tokens: Sequence[str], mode: str, with_unk: bool) -> np.ndarray:
    """Boolean (V,) mask of the tokens a next chord in ``mode`` may be: its vocabulary in
    order (and its <unk> when ``with_unk``)."""
    prefix = f"{mode}:"
    allowed = {prefix + c.roman for c in vocabulary(mode)}
    if with_unk:
        allowed.add(prefix + UNK)
    return np.array([t in allowed for t in tokens])


@dataclass(frozen=True)
class LSTMConfig:
    """Hyper-parameters of the module (stored in the checkpoint)."""

    vocab_size: int
    embed: int = 32
    hidden: int = 96
    layers: int = 1
    dropout: float = 0.5

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


class NextChordLSTM(nn.Module):
    """Embedding -> LSTM -> linear; ``forward`` gives the logits of every step."""

    def __init__(self, cfg: LSTMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed)
        self.lstm = nn.LSTM(
            cfg.embed,
            cfg.hidden,
            num_layers=cfg.layers,
            batch_first=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, cfg.vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, T) int64 -> logits (B, T, V); no padding (all rows T long)."""
        x = self.embed(ids)  # (B, T, E)
        h, _ = self.lstm(x)  # (B, T, H)
        out: torch.Tensor = self.head(self.drop(h))  # (B, T, V)
        return out

    def last_logits(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Right-padded ids (B, T) with true ``lengths`` (B,) -> logits (B, V) of each row's
        last real step (packed, so padding never enters the recurrence)."""
        x = self.embed(ids)  # (B, T, E)
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = self.lstm(packed)  # h_n (layers, B, H), in the input's row order
        out: torch.Tensor = self.head(self.drop(h_n[-1]))  # (B, V)
        return out

    def export(self) -> dict[str, np.ndarray]:
        """float32 numpy copies of the weights under the checkpoint's names."""
        arrays = {
            "embed": self.embed.weight,  # (V, E)
            "head.weight": self.head.weight,  # (V, H)
            "head.bias": self.head.bias,  # (V,)
        }
        for layer in range(self.cfg.layers):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                # weight_ih (4H, in), weight_hh (4H, H), biases (4H,); gates i, f, g, o
                arrays[f"lstm.{name}_l{layer}"] = getattr(self.lstm, f"{name}_l{layer}")
        return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in arrays.items()}

    @torch.no_grad()
    def predict(self, ids: Sequence[int], mask: np.ndarray) -> np.ndarray:
        """Softmax over the ``mask``ed tokens of the logits after ``ids`` (eval mode), as
        float64 in mask order -- the reference for the numpy inference."""
        was = self.training
        self.eval()
        logits = self.forward(torch.tensor([list(ids)], dtype=torch.int64))[0, -1]  # (V,)
        self.train(was)
        z = logits.double().numpy()[mask]
        z = z - z.max()
        p = np.exp(z)
        out: np.ndarray = p / p.sum()
        return out
