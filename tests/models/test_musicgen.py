"""MusicGen through our decode loop: the same codes as transformers' own generate, streaming
that matches a one-shot decode at a flat cost, seeds, limits and missing weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bassd.models.musicgen import MissingWeights, MusicGen, resolve_model
from bassd.models.stock import stock_greedy

PROMPT = "calm ambient piano with warm pads"


def stock_codes(mg: MusicGen, prompt: str, frames: int, guidance: float) -> tuple[Any, Any]:
    """transformers' own greedy generate: the codes it hands to EnCodec, and its audio."""
    codes, audio, _ = stock_greedy(mg, prompt, frames, guidance)
    return codes, audio


@pytest.fixture(scope="module")
def mg(tiny_model_dir: Path) -> MusicGen:
    return MusicGen.load(tiny_model_dir, device="cpu")


@pytest.mark.parametrize("guidance", [1.0, 1.6, 3.0])
def test_greedy_codes_equal_stock_generate(mg: MusicGen, guidance: float) -> None:
    """Greedy decoding gives exactly the codes of transformers' model.generate(do_sample=False)
    with the same guidance, and the same audio."""
    frames = 60
    ref_codes, ref_audio = stock_codes(mg, PROMPT, frames, guidance)
    res = mg.generate(PROMPT, frames / mg.frame_rate, greedy=True, guidance=guidance)
    assert res.codes.shape == (mg.num_codebooks, frames)
    np.testing.assert_array_equal(res.codes, ref_codes)
    np.testing.assert_allclose(res.audio, ref_audio, atol=1e-5)


def test_greedy_codes_equal_stock_generate_stereo(tiny_stereo_dir: Path) -> None:
    """A stereo checkpoint (interleaved left/right codebooks sharing a delay) matches stock
    too, and comes out as two channels."""
    mg = MusicGen.load(tiny_stereo_dir, device="cpu")
    assert mg.channels == 2 and mg.num_codebooks == 8
    ref_codes, ref_audio = stock_codes(mg, PROMPT, 40, 1.6)
    res = mg.generate(PROMPT, 40 / mg.frame_rate, greedy=True, guidance=1.6)
    np.testing.assert_array_equal(res.codes, ref_codes)
    assert res.audio.shape == (40 * mg.hop, 2)
    np.testing.assert_allclose(res.audio, ref_audio, atol=1e-5)


def test_slow_matmul_path_gives_the_same_codes(tiny_model_dir: Path, mg: MusicGen) -> None:
    """The CPU matrix-product orientation changes no result (the benchmark's ablation)."""
    slow = MusicGen.load(tiny_model_dir, device="cpu")
    slow.fast_matmul = False
    a = mg.generate(PROMPT, 1.0, greedy=True).codes
    b = slow.generate(PROMPT, 1.0, greedy=True).codes
    np.testing.assert_array_equal(a, b)


def test_sampling_is_deterministic_per_seed(mg: MusicGen) -> None:
    """Sampling (temperature, top-k, top-p, CFG) repeats exactly for a seed and differs
    between seeds."""
    a = mg.generate(PROMPT, 1.5, seed=3).codes
    b = mg.generate(PROMPT, 1.5, seed=3).codes
    c = mg.generate(PROMPT, 1.5, seed=4).codes
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_top_k_one_is_greedy(mg: MusicGen) -> None:
    """top_k=1 leaves only the argmax: sampling then equals greedy decoding (the filters act)."""
    a = mg.generate(PROMPT, 1.0, seed=1, top_k=1).codes
    b = mg.generate(PROMPT, 1.0, greedy=True).codes
    np.testing.assert_array_equal(a, b)


def test_stream_matches_one_shot_decode_at_flat_cost(mg: MusicGen) -> None:
    """stream() yields the same clip as a one-shot decode of the same codes (SNR > 60 dB),
    and every chunk after the first few decodes a window of the same size."""
    seconds = 6.0
    res = mg.generate(PROMPT, seconds, greedy=True)
    stats: dict[str, Any] = {}
    chunks = list(mg.stream(PROMPT, seconds, greedy=True, stats=stats, max_chunk=25))
    audio = np.concatenate(chunks)
    assert audio.shape == res.audio.shape
    err = audio - res.audio
    snr = 10 * np.log10(np.sum(res.audio**2) / max(np.sum(err**2), 1e-30))
    assert snr > 60, snr
    windows = stats["window_frames"]
    steady = windows[4:-1]  # after the growing first chunks, before the last (shorter) one
    assert len(steady) >= 5 and len(set(steady)) == 1, windows
    assert stats["first_audio_s"] < stats["decoder_s"]


def test_stream_without_right_context_is_worse(mg: MusicGen) -> None:
    """The decoding context matters: with no overlap the chunk seams show (the SNR check
    above can fail)."""
    res = mg.generate(PROMPT, 3.0, greedy=True)
    audio = np.concatenate(list(mg.stream(PROMPT, 3.0, greedy=True, left=0, right=0)))
    err = audio - res.audio
    snr = 10 * np.log10(np.sum(res.audio**2) / max(np.sum(err**2), 1e-30))
    assert snr < 60, snr


def test_bad_requests_are_specific_errors(mg: MusicGen) -> None:
    """Too long, empty, or impossible sampling settings are errors naming the problem."""
    with pytest.raises(ValueError, match="longer than this model"):
        mg.generate(PROMPT, 1e4)
    with pytest.raises(ValueError, match="at least one frame"):
        mg.generate(PROMPT, 0.0)
    with pytest.raises(ValueError, match="temperature"):
        mg.generate(PROMPT, 1.0, temperature=0.0)
    with pytest.raises(ValueError, match="top_p"):
        mg.generate(PROMPT, 1.0, top_p=0.0)


def test_missing_weights_name_the_download_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hub id that is not in the local cache is MissingWeights with the exact command
    that fetches it (nothing is downloaded)."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    with pytest.raises(MissingWeights) as info:
        resolve_model("facebook/musicgen-small")
    assert info.value.command == "bassd models download facebook/musicgen-small"
    assert "bassd models download facebook/musicgen-small" in str(info.value)
    with pytest.raises(MissingWeights):
        MusicGen.load(tmp_path / "no-such-folder")


def test_hub_id_resolves_from_the_local_cache(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hub id whose snapshot is in the Hugging Face cache loads from there, offline."""
    import shutil

    hub = tmp_path / "hub"
    snap = hub / "models--someone--tiny-musicgen" / "snapshots" / ("a" * 40)
    shutil.copytree(tiny_model_dir, snap)
    (hub / "models--someone--tiny-musicgen" / "refs").mkdir()
    (hub / "models--someone--tiny-musicgen" / "refs" / "main").write_text("a" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(hub))
    assert resolve_model("someone/tiny-musicgen") == snap
    mg = MusicGen.load("someone/tiny-musicgen", device="cpu")
    assert mg.generate(PROMPT, 0.5, greedy=True).audio.shape[0] == 25 * mg.hop


def test_bfloat16_decoder_is_opt_in_and_close(tiny_model_dir: Path, mg: MusicGen) -> None:
    """dtype=bfloat16 runs (the decoder in bf16) and is not what float32 gives bit for bit;
    float32 is the default."""
    import torch

    assert next(mg.model.decoder.parameters()).dtype == torch.float32
    bf = MusicGen.load(tiny_model_dir, device="cpu", dtype="bfloat16")
    res = bf.generate(PROMPT, 1.0, greedy=True)
    assert res.codes.shape == (4, 50) and np.isfinite(res.audio).all()


def test_a_batch_decodes_each_clip_as_it_would_alone(mg: MusicGen) -> None:
    """Two prompts of different lengths, seeds and sampling in one batch: each clip's codes
    are the ones it gets alone (greedy and sampled), the shorter one ends first, and each
    chunk is tagged with its request."""
    reqs = [
        {"prompt": PROMPT, "seconds": 2.0, "seed": 3, "sampling": {"greedy": True}},
        {"prompt": "fast drums", "seconds": 1.0, "seed": 7, "sampling": {"temperature": 1.2}},
    ]
    stats: list[dict[str, Any]] = [{}, {}]
    order = [i for i, _ in mg.stream_batch(reqs, stats=stats)]
    alone = []
    for r in reqs:
        st: dict[str, Any] = {}
        list(mg.stream(r["prompt"], r["seconds"], seed=r["seed"], stats=st, **r["sampling"]))
        alone.append(st["codes"])
    for i in range(2):
        np.testing.assert_array_equal(stats[i]["codes"], alone[i])
        assert stats[i]["batch"] == 2
    assert set(order) == {0, 1} and order[-1] == 0  # the 1 s clip was done before the 2 s one
    assert stats[1]["codes"].shape[1] < stats[0]["codes"].shape[1]
