"""Randomly initialised MusicGen checkpoints, written the way real ones are stored.

Model weights cannot be downloaded on the machines this project is built on, so
the tests use a *tiny* MusicGen and the benchmarks the real *musicgen-small*
architecture, both with random weights (the compute is the same as with real
weights). :func:`write_random_musicgen` saves one with ``save_pretrained``
beside a locally built tokenizer and processor, so it loads through exactly
the path a downloaded checkpoint takes (:meth:`bassd.models.musicgen.MusicGen.load`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: the text vocabulary of the locally built tokenizer (SentencePiece-style pieces)
_WORDS = [
    "ambient",
    "calm",
    "gentle",
    "soft",
    "slow",
    "warm",
    "pads",
    "piano",
    "strings",
    "drone",
    "neutral",
    "steady",
    "lofi",
    "beat",
    "bright",
    "fast",
    "energetic",
    "drums",
    "synth",
    "bass",
    "pulse",
    "arpeggio",
    "uplifting",
    "dark",
    "deep",
    "airy",
    "music",
    "with",
    "and",
    "a",
    "of",
    "in",
    "bpm",
    "minor",
    "major",
    "cinematic",
    "texture",
    "evolving",
]

ARCHITECTURES: dict[str, dict[str, Any]] = {
    # a few layers of a few units: loads and generates in milliseconds (tests)
    "tiny": {
        "decoder": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, ffn_dim=64,
                        vocab_size=64, num_codebooks=4, max_position_embeddings=1024),
        "text": dict(d_model=16, d_ff=32, d_kv=8, num_heads=2, num_layers=1),
        "codec": dict(num_filters=4, hidden_size=16, codebook_dim=16, codebook_size=64,
                      num_lstm_layers=1, upsampling_ratios=[8, 5, 4, 4], target_bandwidths=[2.2]),
    },
    # facebook/musicgen-small: decoder 1024 x 24 layers, 16 heads, FFN 4096, 4 x 2048
    # codes; T5-base text encoder; 32 kHz EnCodec (non-causal, 2 LSTM layers)
    "small": {
        "decoder": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                        ffn_dim=4096, vocab_size=2048, num_codebooks=4,
                        max_position_embeddings=2048),
        "text": dict(d_model=768, d_ff=3072, d_kv=64, num_heads=12, num_layers=12),
        "codec": dict(num_filters=64, hidden_size=128, codebook_dim=128, codebook_size=2048,
                      num_lstm_layers=2, upsampling_ratios=[8, 5, 4, 4], target_bandwidths=[2.2]),
    },
}  # fmt: skip


def build_tokenizer() -> Any:
    """A small T5 (Unigram) tokenizer over a music vocabulary, built without any download."""
    from transformers import T5Tokenizer

    pieces = ["<pad>", "</s>", "<unk>", "▁"] + ["▁" + w for w in _WORDS]
    pieces += list("abcdefghijklmnopqrstuvwxyz0123456789,.-")
    return T5Tokenizer(vocab=[(p, -float(i)) for i, p in enumerate(pieces)], extra_ids=0)


def build_random_musicgen(arch: str = "tiny", *, seed: int = 0, stereo: bool = False) -> Any:
    """A ``MusicgenForConditionalGeneration`` of architecture ``arch`` with random weights."""
    import torch
    from transformers import (
        EncodecConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        T5Config,
    )

    spec = ARCHITECTURES[arch]
    tok_vocab = len(build_tokenizer())
    text = T5Config(vocab_size=max(tok_vocab, 64), relative_attention_num_buckets=32,
                    feed_forward_proj="relu", **spec["text"])  # fmt: skip
    codec = EncodecConfig(
        sampling_rate=32000,
        audio_channels=1,
        use_causal_conv=False,
        norm_type="weight_norm",
        normalize=False,
        chunk_length_s=None,
        overlap=None,
        pad_mode="reflect",
        **spec["codec"],
    )
    dec = dict(spec["decoder"])
    if stereo:
        dec["num_codebooks"] *= 2
    vocab = dec["vocab_size"]
    decoder = MusicgenDecoderConfig(
        pad_token_id=vocab, bos_token_id=vocab,
        audio_channels=2 if stereo else 1, dropout=0.0, activation_function="gelu", **dec,
    )  # fmt: skip
    decoder.decoder_start_token_id = vocab
    config = MusicgenConfig(text_encoder=text, audio_encoder=codec, decoder=decoder)
    torch.manual_seed(seed)
    model = MusicgenForConditionalGeneration(config)
    seed_codebooks(model, seed)
    gc = model.generation_config
    gc.pad_token_id = gc.decoder_start_token_id = gc.bos_token_id = vocab
    gc.do_sample, gc.guidance_scale, gc.max_length = True, 3.0, 1500
    return model.eval()


def seed_codebooks(model: Any, seed: int = 0) -> Any:
    """Give a random EnCodec usable codebooks (in place; returns the model).

    A freshly initialised EnCodec's codebooks are all zero: every frame would encode to
    code 0 and every code decode to the same latent. Each residual codebook is set to
    latent frames of a few tones and noises (a one-pass k-means initialisation), so
    codes vary with the audio and the audio with the codes.
    """
    import math

    import torch

    g = torch.Generator().manual_seed(seed)
    sr = int(model.config.audio_encoder.sampling_rate)
    t = torch.arange(sr) / sr
    signals = [torch.randn(sr, generator=g) * a for a in (0.03, 0.1, 0.3)]
    signals += [
        a * torch.sin(2 * math.pi * f * t) for f in (110, 220, 330, 495, 880) for a in (0.1, 0.3)
    ]
    codec = model.audio_encoder
    with torch.no_grad():
        x = torch.stack(signals)[:, None].repeat(1, codec.config.audio_channels, 1)
        latent = codec.encoder(x)
        residual = latent.transpose(1, 2).reshape(-1, latent.shape[1])
        for layer in codec.quantizer.layers:
            cb = layer.codebook
            pick = torch.randperm(residual.shape[0], generator=g)[: cb.embed.shape[0]]
            if len(pick) < cb.embed.shape[0]:  # fewer latent frames than codes: repeat
                pick = pick.repeat(cb.embed.shape[0] // len(pick) + 1)[: cb.embed.shape[0]]
            cb.embed.copy_(residual[pick])
            cb.embed_avg.copy_(cb.embed)
            cb.cluster_size.fill_(1)
            residual = residual - cb.embed[torch.cdist(residual, cb.embed).argmin(dim=1)]
    return model


def write_random_musicgen(
    out_dir: str | Path, arch: str = "tiny", *, seed: int = 0, stereo: bool = False
) -> Path:
    """Save a random MusicGen, its tokenizer and processor to ``out_dir``; returns it."""
    from transformers import EncodecFeatureExtractor, MusicgenProcessor

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = build_random_musicgen(arch, seed=seed, stereo=stereo)
    model.save_pretrained(out)
    fe = EncodecFeatureExtractor(feature_size=2 if stereo else 1, sampling_rate=32000)
    MusicgenProcessor(feature_extractor=fe, tokenizer=build_tokenizer()).save_pretrained(out)
    return out
