"""Train the next-chord LSTM on a corpus and save a numpy checkpoint::

    python -m bassd.models.chord_train --out models/data/chord_lstm.npz

(defaults: the shipped corpus, ``--held-out 0.2 --seed 0``, see ``--help``). Any corpus in
the format of :mod:`bassd.models.chord_corpus` retrains with ``--corpus PATH``.

Steps: :func:`~bassd.models.chord_corpus.split_by_piece` gives (train, held-out); a
``--validation`` fraction of the *training* pieces (split seed ``--seed``) is carved off for
early stopping; the model trains with Adam on every position of the remaining progressions
(the first chord after <start> included), a loss of cross-entropy restricted to the target
mode's tokens (with optional label smoothing over those tokens), stops when the validation
loss has not improved for ``--patience`` epochs and keeps the best epoch's weights. Seeded and
deterministic on CPU (one thread, torch's deterministic algorithms). Then it prints the
held-out table (unigram, bigram, LSTM; top-1/top-3) and writes the checkpoint with its
training command, split, figures and the corpus's header (its provenance) in the metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from bassd.models.chord_bigram import BigramModel, UnigramModel
from bassd.models.chord_corpus import SHIPPED_CORPUS, Progression, read_corpus, split_by_piece
from bassd.models.chord_eval import score
from bassd.models.chord_lstm import (
    LSTMConfig,
    NextChordLSTM,
    encode_context,
    mode_mask,
    token_table,
)
from bassd.models.chord_predictor import ChordPredictor, save_checkpoint

MODE_ID = {"major": 0, "minor": 1}


def examples(
    progs: Sequence[Progression], index: dict[str, int], context: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids (N, context) right-padded with 0, lengths (N,), targets (N,), mode ids (N,)) of
    every position of ``progs``."""
    rows: list[list[int]] = []
    targets: list[int] = []
    modes: list[int] = []
    for p in progs:
        unk = index[f"{p.mode}:<unk>"]
        for i in range(len(p.chords)):
            rows.append(encode_context(p.chords[:i], p.mode, index, context))
            targets.append(index.get(f"{p.mode}:{p.chords[i]}", unk))
            modes.append(MODE_ID[p.mode])
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.int64)
    ids = torch.zeros((len(rows), context), dtype=torch.int64)
    for j, r in enumerate(rows):
        ids[j, : len(r)] = torch.tensor(r)
    return ids, lengths, torch.tensor(targets), torch.tensor(modes)


def _loss(
    model: NextChordLSTM,
    batch: tuple[torch.Tensor, ...],
    allowed: torch.Tensor,
    smoothing: float,
) -> torch.Tensor:
    ids, lengths, targets, modes = batch
    logits = model.last_logits(ids, lengths)  # (B, V)
    ok = allowed[modes]  # (B, V) bool
    logp = F.log_softmax(logits.masked_fill(~ok, -1e9), dim=-1)  # (B, V)
    nll = -logp.gather(1, targets[:, None])[:, 0]  # (B,)
    if smoothing > 0:
        uniform = -(logp * ok).sum(-1) / ok.sum(-1)  # (B,)
        nll = (1 - smoothing) * nll + smoothing * uniform
    return nll.mean()


def train(
    train_progs: Sequence[Progression],
    val_progs: Sequence[Progression],
    cfg: LSTMConfig,
    *,
    context: int,
    epochs: int,
    patience: int,
    lr: float,
    batch_size: int,
    weight_decay: float,
    smoothing: float,
    seed: int,
    log: bool = True,
) -> tuple[NextChordLSTM, dict[str, Any]]:
    """The trained model (best validation epoch) and a training log."""
    torch.manual_seed(seed)
    tokens = token_table()
    index = {t: i for i, t in enumerate(tokens)}
    allowed = torch.tensor(
        np.stack([mode_mask(tokens, m, with_unk=True) for m in ("major", "minor")])
    )  # (2, V)
    tr = examples(train_progs, index, context)
    va = examples(val_progs, index, context) if val_progs else None
    model = NextChordLSTM(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    best_loss, best_epoch, best_state = float("inf"), -1, None
    history: list[dict[str, float]] = []
    n = len(tr[0])
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for s in range(0, n, batch_size):
            b = perm[s : s + batch_size]
            loss = _loss(model, tuple(t[b] for t in tr), allowed, smoothing)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += float(loss.detach()) * len(b)
        model.eval()
        with torch.no_grad():
            val = float(_loss(model, va, allowed, 0.0)) if va is not None else total / n
        history.append({"epoch": epoch + 1, "train_loss": total / n, "val_loss": val})
        if log:
            print(f"epoch {epoch + 1:3d}  train {total / n:.4f}  val {val:.4f}", flush=True)
        if val < best_loss - 1e-5:
            best_loss, best_epoch = val, epoch + 1
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        elif epoch + 1 - best_epoch >= patience:
            break
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    return model, {
        "best_epoch": best_epoch,
        "best_val_loss": best_loss,
        "epochs_run": len(history),
    }


def _header(path: Path) -> list[str]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            out.append(line[1:].strip())
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Train, print the held-out table, write the checkpoint."""
    ap = argparse.ArgumentParser(
        prog="python -m bassd.models.chord_train", description=__doc__.splitlines()[0]
    )
    ap.add_argument(
        "--corpus", type=Path, default=SHIPPED_CORPUS, help="corpus file (default: the shipped one)"
    )
    ap.add_argument("--out", type=Path, required=True, help="checkpoint to write (.npz)")
    ap.add_argument("--held-out", type=float, default=0.2, help="held-out fraction of pieces (0.2)")
    ap.add_argument(
        "--seed", type=int, default=0, help="split, initialisation and shuffling seed (0)"
    )
    ap.add_argument(
        "--validation",
        type=float,
        default=0.15,
        help="fraction of training pieces for early stopping (0.15)",
    )
    ap.add_argument("--epochs", type=int, default=80, help="maximum epochs (80)")
    ap.add_argument("--patience", type=int, default=10, help="early-stopping patience, epochs (10)")
    ap.add_argument("--context", type=int, default=8, help="context window, tokens (8)")
    ap.add_argument("--embed", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=96)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    progs = read_corpus(args.corpus)
    train_all, test = split_by_piece(progs, args.held_out, args.seed)
    fit_progs, val = split_by_piece(train_all, args.validation, args.seed)
    cfg = LSTMConfig(len(token_table()), args.embed, args.hidden, args.layers, args.dropout)
    model, log = train(
        fit_progs,
        val,
        cfg,
        context=args.context,
        epochs=args.epochs,
        patience=args.patience,
        lr=args.lr,
        batch_size=args.batch_size,
        weight_decay=args.weight_decay,
        smoothing=args.label_smoothing,
        seed=args.seed,
        log=not args.quiet,
    )
    meta: dict[str, Any] = {"config": cfg.as_dict(), "context": args.context}
    predictor = ChordPredictor(model.export(), token_table(), meta)
    uni = UnigramModel().fit(train_all)
    bi = BigramModel().fit(train_all)
    figures = {
        "unigram": score(lambda p, i: uni.predict(p.chords[:i], p.mode), test),
        "bigram": score(lambda p, i: bi.predict(p.chords[:i], p.mode), test),
        "lstm": score(lambda p, i: predictor.predict(p.chords[:i], p.mode), test),
    }
    n_pieces = len({p.piece for p in test})
    print(f"\nheld-out next-chord accuracy ({figures['bigram']['n']} positions, {n_pieces} pieces)")
    print(f"{'method':<10}{'top1':>8}{'top3':>8}")
    for name, r in figures.items():
        print(f"{name:<10}{r['top1']:>8.3f}{r['top3']:>8.3f}")
    argv_list = list(sys.argv[1:] if argv is None else argv)
    corpus_bytes = Path(args.corpus).read_bytes()
    meta["training"] = {
        "command": "python -m bassd.models.chord_train " + shlex.join(argv_list),
        "torch": torch.__version__,
        "split": {
            "held_out": args.held_out,
            "seed": args.seed,
            "validation": args.validation,
            "validation_seed": args.seed,
            "pieces": {
                "train": len({p.piece for p in fit_progs}),
                "validation": len({p.piece for p in val}),
                "held_out": n_pieces,
            },
        },
        "hyper": {
            k: getattr(args, k)
            for k in ("epochs", "patience", "lr", "batch_size", "weight_decay", "label_smoothing")
        },
        **log,
        "held_out_figures": figures,
    }
    meta["data"] = {
        "corpus": Path(args.corpus).name,
        "corpus_sha256": hashlib.sha256(corpus_bytes).hexdigest(),
        "corpus_header": _header(Path(args.corpus)),
    }
    save_checkpoint(args.out, model.export(), token_table(), meta)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
