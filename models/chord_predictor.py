"""Next-chord prediction from a trained LSTM checkpoint, in numpy (the daemon needs no torch).

:class:`ChordPredictor` runs the forward pass of :class:`bassd.models.chord_lstm.NextChordLSTM`
(embedding -> LSTM with torch's gate order i, f, g, o -> linear) over the last ``context``
tokens of ``<start> + history`` and returns a distribution over
:func:`bassd.dsp.chords.vocabulary` of the mode -- the contract of
:meth:`bassd.models.chord_bigram.BigramModel.predict`.

Checkpoint format (``.npz``, written by :func:`save_checkpoint`, read with
``allow_pickle=False``):

* ``meta`` -- a 0-d unicode array holding a JSON object: ``format`` (``"bassd-chord-lstm"``),
  ``version`` (1), ``config`` (``vocab_size``, ``embed``, ``hidden``, ``layers``,
  ``dropout``), ``context`` (default window, tokens), and free provenance (``training``:
  command, split, figures; ``data``: corpus and licence wording);
* ``tokens`` -- 1-d unicode array, the token table (``"major:V7"``, ``"minor:<start>"`` ...);
* ``embed`` (V, E), ``lstm.weight_ih_l{k}`` (4H, in), ``lstm.weight_hh_l{k}`` (4H, H),
  ``lstm.bias_ih_l{k}``, ``lstm.bias_hh_l{k}`` (4H,), ``head.weight`` (V, H),
  ``head.bias`` (V,) -- float32.

A missing, unreadable or incompatible file raises :class:`ValueError` naming it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bassd.dsp.chords import MODES, vocabulary

__all__ = ["FORMAT", "SHIPPED_CHECKPOINT", "VERSION", "ChordPredictor", "save_checkpoint"]

#: the checkpoint shipped with bassd, found through the installed package
SHIPPED_CHECKPOINT = Path(__file__).resolve().parent / "data" / "chord_lstm.npz"
FORMAT = "bassd-chord-lstm"
VERSION = 1
_START, _UNK = "<start>", "<unk>"


def save_checkpoint(
    path: str | Path, arrays: Mapping[str, np.ndarray], tokens: Sequence[str], meta: dict[str, Any]
) -> Path:
    """Write a checkpoint (format in the module docstring); ``meta`` gets ``format`` and
    ``version`` added. Returns the path."""
    path = Path(path)
    doc = {"format": FORMAT, "version": VERSION, **meta}
    payload: dict[str, np.ndarray] = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
    payload["tokens"] = np.array(list(tokens), dtype=str)
    payload["meta"] = np.array(json.dumps(doc, ensure_ascii=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:  # a file object, so numpy does not append ".npz"
        savez: Any = np.savez_compressed  # numpy's stub types **kwds as allow_pickle
        savez(fh, **payload)
    return path


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


class ChordPredictor:
    """Numpy next-chord LSTM; build with :meth:`load`."""

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        tokens: Sequence[str],
        meta: dict[str, Any],
        context: int | None = None,
    ) -> None:
        cfg = meta["config"]
        self.meta = meta
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.layers = int(cfg["layers"])
        self.hidden = int(cfg["hidden"])
        self.context = int(context if context is not None else meta["context"])
        if self.context < 1:
            raise ValueError(f"context must be at least 1 token, not {self.context}")
        f64 = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
        self.embed = f64["embed"]  # (V, E)
        self.w_ih = [f64[f"lstm.weight_ih_l{k}"] for k in range(self.layers)]  # (4H, in)
        self.w_hh = [f64[f"lstm.weight_hh_l{k}"] for k in range(self.layers)]  # (4H, H)
        self.bias = [
            f64[f"lstm.bias_ih_l{k}"] + f64[f"lstm.bias_hh_l{k}"] for k in range(self.layers)
        ]  # (4H,)
        self.head_w = f64["head.weight"]  # (V, H)
        self.head_b = f64["head.bias"]  # (V,)
        # per mode: the token ids of its vocabulary, in vocabulary order
        self._out = {
            m: np.array([self.index[f"{m}:{c.roman}"] for c in vocabulary(m)]) for m in MODES
        }

    @classmethod
    def load(cls, path: str | Path | None = None, context: int | None = None) -> ChordPredictor:
        """The predictor of checkpoint ``path`` (None: :data:`SHIPPED_CHECKPOINT`), with a
        window of ``context`` tokens (None: the checkpoint's). ValueError, naming the file,
        when it is missing, unreadable or not a compatible checkpoint."""
        path = Path(path) if path is not None else SHIPPED_CHECKPOINT
        try:
            with np.load(path, allow_pickle=False) as npz:
                data = {k: npz[k] for k in npz.files}
        except FileNotFoundError:
            raise ValueError(f"{path}: no such chord-predictor checkpoint") from None
        except Exception as exc:  # zip/format errors of any kind
            raise ValueError(f"{path}: not a readable .npz checkpoint ({exc})") from None
        try:
            meta = json.loads(str(data.pop("meta")))
            tokens = [str(t) for t in data.pop("tokens")]
        except (KeyError, ValueError) as exc:
            raise ValueError(
                f"{path}: not a chord-predictor checkpoint (meta/tokens: {exc})"
            ) from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} checkpoint")
        if meta.get("version") != VERSION:
            raise ValueError(
                f"{path}: checkpoint version {meta.get('version')!r}, this bassd reads {VERSION}"
            )
        try:
            out = cls(data, tokens, meta, context)
            out._check()
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"{path}: incompatible chord-predictor checkpoint ({exc!r})") from None
        return out

    def _check(self) -> None:
        v, e = self.embed.shape
        h = self.hidden
        if v != len(self.tokens):
            raise ValueError(f"embedding has {v} rows for {len(self.tokens)} tokens")
        for m in MODES:
            for special in (_START, _UNK):
                if f"{m}:{special}" not in self.index:
                    raise ValueError(f"token {m}:{special} missing")
        for k in range(self.layers):
            n_in = e if k == 0 else h
            if self.w_ih[k].shape != (4 * h, n_in) or self.w_hh[k].shape != (4 * h, h):
                raise ValueError(f"LSTM layer {k} has the wrong shape")
            if self.bias[k].shape != (4 * h,):
                raise ValueError(f"LSTM layer {k} bias has the wrong shape")
        if self.head_w.shape != (v, h) or self.head_b.shape != (v,):
            raise ValueError("output layer has the wrong shape")

    def encode(self, history: Sequence[str], mode: str) -> list[int]:
        """Token ids of the window: the last ``context`` of ``<start> + history``."""
        unk = self.index[f"{mode}:{_UNK}"]
        ids = [self.index[f"{mode}:{_START}"]]
        ids += [self.index.get(f"{mode}:{c}", unk) for c in history[-self.context :]]
        return ids[-self.context :]

    def logits(self, ids: Sequence[int]) -> np.ndarray:
        """Logits (V,) over all tokens after the token ids ``ids`` (at least one)."""
        if not ids:
            raise ValueError("need at least one token")
        x = self.embed[np.asarray(ids)]  # (T, E)
        for k in range(self.layers):
            h = np.zeros(self.hidden)
            c = np.zeros(self.hidden)
            gates_in = x @ self.w_ih[k].T + self.bias[k]  # (T, 4H)
            hs = np.empty((len(ids), self.hidden))
            for t in range(len(ids)):
                g = gates_in[t] + self.w_hh[k] @ h  # (4H,): i, f, g, o
                i, f, gg, o = np.split(g, 4)
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(gg)
                h = _sigmoid(o) * np.tanh(c)
                hs[t] = h
            x = hs  # (T, H)
        out: np.ndarray = self.head_w @ x[-1] + self.head_b  # (V,)
        return out

    def predict(self, history: Sequence[str], mode: str) -> np.ndarray:
        """Distribution over ``vocabulary(mode)`` (its order, summing to 1) of the chord after
        ``history`` (Roman numerals of ``mode``; unknown ones read as <unk>)."""
        if mode not in MODES:
            raise ValueError(f"mode must be 'major' or 'minor', not {mode!r}")
        z = self.logits(self.encode(history, mode))[self._out[mode]]
        z = z - z.max()
        p = np.exp(z)
        out: np.ndarray = p / p.sum()
        return out
