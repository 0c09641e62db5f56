"""Training: the loss falls, the adapter is stock peft, resuming is seamless, bad files are skipped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch
from structlog.testing import capture_logs

from bassd.adapters.audio_clips import encode_audio, load_clips
from bassd.adapters.codes import delayed_labels
from bassd.adapters.lora_files import AdapterError
from bassd.adapters.train import TrainResult, evaluate_loss, train_adapter

CPU = torch.device("cpu")
FAST: dict[str, Any] = dict(clip_seconds=1.0, lr=1e-2, progress=False, rank=4, alpha=8)


def write_audio(folder: Path) -> Path:
    """Three short clips in three formats and rates (one stereo), plus a garbage 'bad.wav'."""
    folder.mkdir(parents=True, exist_ok=True)
    t48, t32 = np.arange(72000) / 48000, np.arange(38400) / 32000
    sf.write(folder / "tone_a.wav", 0.3 * np.sin(2 * np.pi * 220 * t48), 48000)
    stereo = np.stack([np.sin(2 * np.pi * 330 * t32), np.sin(2 * np.pi * 495 * t32)], 1)
    sf.write(folder / "tone_b.flac", 0.3 * stereo, 32000)
    noise = np.random.default_rng(0).standard_normal(44100 * 2) * 0.1
    (folder / "sub").mkdir()
    sf.write(folder / "sub" / "noise.ogg", noise, 44100)
    (folder / "bad.wav").write_bytes(b"RIFF not really a wave file" * 8)
    (folder / "notes.txt").write_text("not audio, ignored")
    (folder / "captions.csv").write_text(
        "file,text\ntone_a.wav,calm soft piano\nsub/noise.ogg,airy texture\n"
    )
    return folder


@pytest.fixture(scope="module")
def trained(
    tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[TrainResult, list[dict[str, Any]], Path]:
    """One 12-step training run on the synthetic clips (with its captured log events)."""
    root = tmp_path_factory.mktemp("train")
    audio = write_audio(root / "audio")
    with capture_logs() as logs:
        result = train_adapter(tiny_dir, audio, "calm", out_dir=root / "out",
                               captions=audio / "captions.csv", steps=12, checkpoint_every=5,
                               **FAST)  # fmt: skip
    return result, logs, audio


def test_training_lowers_loss_and_reloads_with_stock_peft(
    trained: tuple[TrainResult, list[dict[str, Any]], Path],
    fresh_model: Callable[[], Any],
    tiny_dir: Path,
) -> None:
    """A dozen steps lower the loss on the training clips; stock PeftModel loads the adapter and it changes the output."""
    from peft import PeftModel
    from transformers import AutoProcessor

    result, _, audio = trained
    processor = AutoProcessor.from_pretrained(tiny_dir, local_files_only=True)
    base = fresh_model()
    clips, _ = load_clips(
        base, audio, captions=audio / "captions.csv", default_text="music", device=CPU
    )
    before = evaluate_loss(base, processor, clips, 50, CPU)
    pm = PeftModel.from_pretrained(fresh_model(), str(result.path)).eval()
    after = evaluate_loss(pm, processor, clips, 50, CPU)
    assert after < before - 0.3, (before, after)
    enc = processor(text=["calm soft piano"], return_tensors="pt")
    codes = clips[0].codes[:, :20]
    with torch.no_grad():
        a = base(**enc, decoder_input_ids=codes).logits
        b = pm(**enc, decoder_input_ids=codes).logits
    assert not torch.allclose(a, b, atol=1e-3)


def test_outputs_log_and_decoder_only_targets(
    trained: tuple[TrainResult, list[dict[str, Any]], Path],
) -> None:
    """The folder holds the peft adapter (decoder modules only), a one-row-per-step log and a checkpoint."""
    from safetensors.torch import load_file

    result, _, _ = trained
    assert result.steps_done == 12 and result.start_step == 0 and len(result.losses) == 12
    rows = [json.loads(x) for x in (result.path / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 13))
    assert all(set(r) == {"step", "loss", "lr", "seconds"} for r in rows)
    assert [r["loss"] for r in rows] == pytest.approx(result.losses)
    keys = load_file(str(result.path / "adapter_model.safetensors")).keys()
    modules = {k.removeprefix("base_model.model.").rsplit(".lora_", 1)[0] for k in keys}
    assert all(m.startswith("decoder.") or m == "enc_to_dec_proj" for m in modules)
    assert {"decoder.lm_heads.3", "decoder.model.decoder.layers.1.encoder_attn.v_proj",
            "decoder.model.decoder.layers.0.fc2", "enc_to_dec_proj"} <= modules  # fmt: skip
    cfg = json.loads((result.path / "adapter_config.json").read_text())
    assert (cfg["r"], cfg["lora_alpha"], cfg["lora_dropout"]) == (4, 8, 0.05)
    assert (result.path / "checkpoint" / "trainer_state.pt").is_file()


def test_unreadable_file_is_skipped_and_warned(
    trained: tuple[TrainResult, list[dict[str, Any]], Path],
) -> None:
    """A garbage bad.wav is named in skipped and in a warning; the other three files train."""
    result, logs, _ = trained
    assert [p.name for p, _ in result.skipped] == ["bad.wav"]
    warned = [e for e in logs if e["event"] == "adapter_audio_skipped"]
    assert (
        len(warned) == 1
        and warned[0]["file"].endswith("bad.wav")
        and warned[0]["log_level"] == "warning"
    )


def test_resume_continues_from_checkpoint(tiny_dir: Path, tmp_path: Path) -> None:
    """3 steps then a call for 5 resume at step 3: steps add up, the log is cut back to the checkpoint (one row per step), losses as a straight run."""
    audio = write_audio(tmp_path / "audio")
    first = train_adapter(
        tiny_dir, audio, "x", out_dir=tmp_path / "a", steps=3, checkpoint_every=2, **FAST
    )
    log = tmp_path / "a" / "x" / "train_log.jsonl"
    with log.open("a") as f:  # a row written after the last checkpoint, then a crash
        f.write('{"step": 4, "loss": 9.9, "lr": 0.01, "seconds": 0.1}\n')
    second = train_adapter(
        tiny_dir, audio, "x", out_dir=tmp_path / "a", steps=5, checkpoint_every=2, **FAST
    )
    straight = train_adapter(
        tiny_dir, audio, "x", out_dir=tmp_path / "b", steps=5, checkpoint_every=2, **FAST
    )
    assert (first.steps_done, second.start_step, second.steps_done) == (3, 3, 5)
    assert len(second.losses) == 2
    rows = [json.loads(x) for x in log.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5]
    assert 9.9 not in [r["loss"] for r in rows]
    assert first.losses + second.losses == pytest.approx(straight.losses, rel=1e-4)
    with pytest.raises(AdapterError, match=r"checkpoint .* was trained with"):
        train_adapter(tiny_dir, audio, "x", out_dir=tmp_path / "a", steps=6, **{**FAST, "rank": 8})


def test_no_readable_audio_names_folder_and_files(tiny_dir: Path, tmp_path: Path) -> None:
    """A folder without one usable file raises AdapterError naming it and each failed file."""
    (tmp_path / "a.wav").write_bytes(b"\x00" * 100)
    (tmp_path / "b.mp3").write_bytes(b"ID3 nonsense")
    with pytest.raises(AdapterError) as err:
        train_adapter(tiny_dir, tmp_path, "x", out_dir=tmp_path / "o", steps=1, progress=False)
    msg = str(err.value)
    assert f"no readable audio in {tmp_path}" in msg and "a.wav (" in msg and "b.mp3 (" in msg
    with pytest.raises(AdapterError, match="does not exist"):
        train_adapter(tiny_dir, tmp_path / "gone", "x", out_dir=tmp_path / "o", steps=1)
    with pytest.raises(AdapterError, match="bad adapter name"):
        train_adapter(tiny_dir, tmp_path, "a/b", out_dir=tmp_path / "o", steps=1)


def test_captions_and_default_text(fresh_model: Callable[[], Any], tmp_path: Path) -> None:
    """Captions come from the CSV (paths relative to the audio folder), else the default text; a bad header is named."""
    audio = write_audio(tmp_path / "audio")
    clips, _ = load_clips(fresh_model(), audio, captions=audio / "captions.csv",
                                default_text="lofi beat", device=CPU)  # fmt: skip
    texts = {c.path.name: c.text for c in clips}
    assert texts == {
        "tone_a.wav": "calm soft piano",
        "tone_b.flac": "lofi beat",
        "noise.ogg": "airy texture",
    }
    frames = {c.path.name: (c.codes.shape[0], c.frames) for c in clips}
    assert frames == {"tone_a.wav": (4, 75), "tone_b.flac": (4, 60), "noise.ogg": (4, 100)}  # 50 Hz
    bad = tmp_path / "bad.csv"
    bad.write_text("path,caption\nx.wav,y\n")
    with pytest.raises(AdapterError, match=r"bad.csv needs a header 'file,text'"):
        load_clips(fresh_model(), audio, captions=bad, default_text="m", device=CPU)


def test_delay_pattern_labels() -> None:
    """Labels put codebook k's frame t at position t+k, with -100 where the delay ramp is empty (mono and stereo)."""
    from bassd.models.random_init import build_random_musicgen

    for stereo in (False, True):
        dec = build_random_musicgen("tiny", stereo=stereo).decoder
        k, frames = dec.num_codebooks, 5
        codes = torch.arange(k * frames).reshape(1, k, frames) % 60
        labels = delayed_labels(dec, codes)
        kc = k // 2 if stereo else k
        assert labels.shape == (1, frames + kc - 1, k)
        for cb in range(k):
            delay = cb // 2 if stereo else cb
            for pos in range(frames + kc - 1):
                want = codes[0, cb, pos - delay] if 0 <= pos - delay < frames else -100
                assert labels[0, pos, cb] == want, (stereo, cb, pos)


def test_stereo_codes_interleave_channels() -> None:
    """For a stereo checkpoint each channel is encoded by the mono EnCodec and codebooks interleave L0 R0 L1 R1 ..."""
    from bassd.models.random_init import build_random_musicgen

    model = build_random_musicgen("tiny", stereo=True)  # codebooks seeded there
    g = np.random.default_rng(1)
    wave = (g.standard_normal((2, 16000)) * 0.1).astype(np.float32)
    codes = encode_audio(model, wave, CPU)
    assert codes.shape == (8, 25)
    with torch.no_grad():
        left = model.audio_encoder.encode(torch.from_numpy(wave[None, :1]))["audio_codes"][0, 0, :4]
        right = model.audio_encoder.encode(torch.from_numpy(wave[None, 1:]))["audio_codes"][
            0, 0, :4
        ]
    assert torch.equal(codes[0::2], left) and torch.equal(codes[1::2], right)
    assert not torch.equal(left, right)
