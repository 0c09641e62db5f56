"""The next-chord LSTM: torch module, numpy inference, checkpoint format, trainer CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bassd.dsp.chords import vocabulary
from bassd.models.chord_bigram import BigramModel
from bassd.models.chord_corpus import (
    SHIPPED_CORPUS,
    Progression,
    read_corpus,
    split_by_piece,
    write_corpus,
)
from bassd.models.chord_eval import score
from bassd.models.chord_predictor import SHIPPED_CHECKPOINT, ChordPredictor, save_checkpoint

torch = pytest.importorskip("torch")

from bassd.models.chord_lstm import (  # noqa: E402
    LSTMConfig,
    NextChordLSTM,
    encode_context,
    mode_mask,
    token_table,
)


def _random_model(layers: int, seed: int = 0) -> NextChordLSTM:
    torch.manual_seed(seed)
    model = NextChordLSTM(LSTMConfig(len(token_table()), embed=12, hidden=20, layers=layers))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.5)  # larger than the default init, so the gates saturate somewhere
    return model.eval()


def _meta(model: NextChordLSTM, context: int = 6) -> dict[str, object]:
    return {"config": model.cfg.as_dict(), "context": context}


@pytest.mark.parametrize("layers", [1, 2])
def test_numpy_forward_equals_torch(layers: int) -> None:
    """The numpy predictor's distribution equals the torch module's (eval mode) to 1e-5,
    for one and two layers, both modes, histories shorter and longer than the window."""
    model = _random_model(layers)
    tokens = token_table()
    index = {t: i for i, t in enumerate(tokens)}
    pred = ChordPredictor(model.export(), tokens, _meta(model))
    histories = {
        "major": [[], ["I"], ["I", "IV", "V7", "vi", "ii7", "V", "I", "bVII", "V7/V"]],
        "minor": [[], ["i", "iv"], ["i", "VI", "iio", "V7", "i", "III", "VII", "v", "bII"]],
    }
    for mode, hs in histories.items():
        mask = mode_mask(tokens, mode, with_unk=False)
        for h in hs:
            ids = encode_context(h, mode, index, pred.context)
            assert pred.encode(h, mode) == ids
            ref = model.predict(ids, mask)
            got = pred.predict(h, mode)
            assert got.shape == (len(vocabulary(mode)),)
            np.testing.assert_allclose(got, ref, atol=1e-5)
            np.testing.assert_allclose(
                pred.logits(ids), model(torch.tensor([ids]))[0, -1].detach().numpy(), atol=1e-5
            )


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    """save_checkpoint then load gives the same predictions, tokens, metadata and window."""
    model = _random_model(2, seed=3)
    tokens = token_table()
    meta = {**_meta(model, context=5), "training": {"note": "héllo"}}
    before = ChordPredictor(model.export(), tokens, meta)
    path = save_checkpoint(tmp_path / "m.npz", model.export(), tokens, meta)
    after = ChordPredictor.load(path)
    assert after.tokens == tokens
    assert after.context == 5 and after.meta["training"] == {"note": "héllo"}
    assert after.meta["format"] == "bassd-chord-lstm"
    h = ["I", "vi", "ii", "V7"]
    np.testing.assert_array_equal(after.predict(h, "major"), before.predict(h, "major"))
    assert ChordPredictor.load(path, context=2).encode(h, "major") == before.encode(h, "major")[-2:]


def test_bad_checkpoints_raise_value_error_naming_the_file(tmp_path: Path) -> None:
    """A missing file, a non-npz file, an npz without meta, a foreign format, a wrong version
    and a wrong weight shape each raise ValueError with the path in the message."""
    model = _random_model(1)
    tokens = token_table()
    good = model.export()
    cases: dict[str, Path] = {"missing": tmp_path / "nope.npz"}
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    cases["junk"] = junk
    bare = tmp_path / "bare.npz"
    np.savez(bare, **good)
    cases["bare"] = bare
    cases["foreign"] = save_checkpoint(
        tmp_path / "f.npz", good, tokens, {**_meta(model), "format": "x"}
    )
    cases["version"] = save_checkpoint(
        tmp_path / "v.npz", good, tokens, {**_meta(model), "version": 99}
    )
    wrong = dict(good)
    wrong["head.weight"] = good["head.weight"][:, :-1]
    cases["shape"] = save_checkpoint(tmp_path / "s.npz", wrong, tokens, _meta(model))
    for path in cases.values():
        with pytest.raises(ValueError, match=path.name):
            ChordPredictor.load(path)


def test_shipped_checkpoint_beats_the_bigram_on_held_out_top1() -> None:
    """The shipped checkpoint loads from the package and, on the held-out pieces of the split
    its metadata records, has a higher top-1 than the bigram fitted on the training pieces."""
    assert SHIPPED_CHECKPOINT.parent.name == "data"
    pred = ChordPredictor.load()
    split = pred.meta["training"]["split"]
    train, test = split_by_piece(read_corpus(SHIPPED_CORPUS), split["held_out"], split["seed"])
    bi = BigramModel().fit(train)
    lstm_s = score(lambda p, i: pred.predict(p.chords[:i], p.mode), test)
    bi_s = score(lambda p, i: bi.predict(p.chords[:i], p.mode), test)
    assert lstm_s["n"] == bi_s["n"] > 1000
    assert lstm_s["top1"] > bi_s["top1"]
    assert SHIPPED_CHECKPOINT.stat().st_size < 5_000_000


def test_score_matches_bigram_evaluate() -> None:
    """chord_eval.score over a bigram gives exactly chord_bigram.evaluate's figures."""
    from bassd.models.chord_bigram import evaluate

    train, test = split_by_piece(read_corpus(SHIPPED_CORPUS), 0.2, 0)
    bi = BigramModel().fit(train)
    assert score(lambda p, i: bi.predict(p.chords[:i], p.mode), test) == evaluate(bi, test)


def test_trainer_cli_writes_a_loadable_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The trainer trains a tiny model on a tiny corpus, prints the three-row held-out table
    and writes a checkpoint under 5 MB that loads, with its command and split in the metadata."""
    from bassd.models.chord_train import main

    progs = [
        Progression(
            f"p{k}",
            "major" if k % 2 else "minor",
            ("I", "IV", "V7", "I") if k % 2 else ("i", "iv", "V", "i"),
        )
        for k in range(10)
    ]
    corpus = tmp_path / "tiny.txt"
    write_corpus(corpus, progs, header=["tiny test corpus"])
    out = tmp_path / "tiny.npz"
    rc = main(["--corpus", str(corpus), "--out", str(out), "--epochs", "3", "--hidden", "8",
               "--embed", "4", "--quiet", "--held-out", "0.2", "--seed", "1"])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    for row in ("unigram", "bigram", "lstm"):
        assert any(line.startswith(row) for line in text.splitlines())
    assert out.stat().st_size < 5_000_000
    pred = ChordPredictor.load(out)
    t = pred.meta["training"]
    assert t["split"]["held_out"] == 0.2 and t["split"]["seed"] == 1
    assert "--epochs 3" in t["command"]
    assert pred.meta["data"]["corpus_header"] == ["tiny test corpus"]
    assert json.dumps(pred.meta)  # JSON-able
    p = pred.predict(["I", "IV"], "major")
    assert p.shape == (len(vocabulary("major")),) and abs(p.sum() - 1) < 1e-9
