"""MusicGen text-to-music, with LoRA blends, a fast decode loop and true streaming.

The library face of the neural renderer, in the shape audiocraft users know::

    from bassd.models.musicgen import MusicGen
    mg = MusicGen.load("facebook/musicgen-small", device="auto")
    res = mg.generate("calm ambient piano", 10.0, seed=0)
    res.audio   # float32 (frames, channels) at mg.sample_rate
    res.codes   # int (codebooks, frames): the codes handed to EnCodec
    for chunk in mg.stream("calm ambient piano", 30.0):
        ...     # (frames, channels) chunks as they are decoded

Weights come from a local folder or the Hugging Face cache, never from the
network (``bassd models download`` fetches them when asked). The decoder runs
through :mod:`bassd.models.decode_loop` (greedy decoding gives the same codes as
transformers' own ``generate``); the audio through EnCodec, in one piece or
chunk by chunk (:mod:`bassd.models.stream_decode`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL = "facebook/musicgen-small"
DTYPES = ("float32", "bfloat16", "float16")


class MissingWeights(FileNotFoundError):
    """The model is neither a local folder nor in the Hugging Face cache."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.command = f"bassd models download {model}"
        super().__init__(
            f"MusicGen weights {model!r} are not on this machine (no such folder, not in the "
            f"Hugging Face cache); fetch them with: {self.command}"
        )


def resolve_model(path_or_id: str | Path) -> Path:
    """A model folder: ``path_or_id`` itself, or the hub id's snapshot in the local cache."""
    p = Path(path_or_id).expanduser()
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise MissingWeights(str(path_or_id))
        return p
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(str(path_or_id), local_files_only=True))
    except (LocalEntryNotFoundError, ValueError, OSError) as exc:
        raise MissingWeights(str(path_or_id)) from exc


def pick_device(name: str = "auto") -> str:
    """``auto``: CUDA, then Apple MPS, then the CPU; otherwise the device named."""
    import torch

    if name != "auto":
        if name == "cuda" and not torch.cuda.is_available():
            raise ValueError("musicgen.device is cuda but no CUDA device is available")
        return name
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


@dataclass
class Generation:
    """One generated clip."""

    audio: np.ndarray  # float32 (frames, channels) at sample_rate
    codes: np.ndarray  # int64 (codebooks, code frames)
    sample_rate: int
    seconds: float = 0.0  # wall time it took
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rtf(self) -> float:
        """Wall time / audio time (below 1: faster than real time)."""
        return self.seconds / max(1e-9, len(self.audio) / self.sample_rate)


StepCallback = Callable[[int, int], None]  # (steps done, steps in all)


class MusicGen:
    """A loaded MusicGen checkpoint (mono or stereo) and its processor."""

    def __init__(
        self,
        model: Any,
        processor: Any,
        *,
        device: str = "cpu",
        adapter_dirs: Sequence[Path] = (),
        fast_matmul: bool = True,
    ) -> None:
        from bassd.models.decode_loop import delay_offsets

        self.model = model
        self.processor = processor
        self.device = device
        self.adapter_dirs = tuple(adapter_dirs)
        self.fast_matmul = fast_matmul
        dec = model.decoder.config
        codec = model.audio_encoder.config
        self.sample_rate: int = int(codec.sampling_rate)
        self.frame_rate: float = float(codec.frame_rate)
        self.hop: int = round(self.sample_rate / self.frame_rate)
        self.channels: int = int(dec.audio_channels)
        self.num_codebooks: int = int(dec.num_codebooks)
        self.max_delay = max(delay_offsets(self.num_codebooks, self.channels == 2))
        self.max_frames = int(dec.max_position_embeddings) - self.max_delay - 1
        self._steps: dict[int, Any] = {}  # prompts per batch -> its decoder (KV cache)
        self._blender: Any = None
        self._blend_versions: dict[int, int] = {}
        self.blend: list[tuple[str, float]] = []

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls,
        path_or_id: str | Path = DEFAULT_MODEL,
        device: str = "auto",
        *,
        dtype: str = "float32",
        threads: int | None = None,
        adapter_dirs: Sequence[Path] = (),
    ) -> MusicGen:
        """Load from a local folder or the local Hugging Face cache (never downloads).

        ``dtype`` is the decoder's (the language model's): float32 gives the same
        codes as transformers' own generate; bfloat16/float16 are faster and
        change the results a little (opt-in). Raises :class:`MissingWeights`.
        """
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        folder = resolve_model(path_or_id)
        import torch
        from transformers import AutoProcessor, MusicgenForConditionalGeneration

        if threads:
            torch.set_num_threads(threads)
        dev = pick_device(device)
        model: Any = MusicgenForConditionalGeneration.from_pretrained(folder, local_files_only=True)
        model = model.to(dev).eval()
        if dtype != "float32":
            model.decoder.to(getattr(torch, dtype))
        processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
        mg = cls(model, processor, device=dev, adapter_dirs=adapter_dirs)
        mg._decoder(mg.max_frames)  # the decode loop's weights and cache, once, at load
        return mg

    # ----------------------------------------------------------------- adapters
    def set_adapters(self, blend: Mapping[str, float] | Sequence[tuple[str, float]] | None) -> None:
        """Blend LoRA adapters into the weights (exactly, in weight space); the base
        model is kept, so any later blend (or None: none) starts from it."""
        items = list(blend.items()) if isinstance(blend, Mapping) else list(blend or [])
        items = [(str(n), float(w)) for n, w in items]
        if items == self.blend:
            return
        from bassd.adapters.blend import WeightBlender
        from bassd.adapters.lora_files import load_adapter, resolve_adapter

        if self._blender is None:
            if not items:
                return
            self._blender = WeightBlender(self.model)
        loaded = [
            (load_adapter(resolve_adapter(n, self.adapter_dirs), name=Path(n).name), w)
            for n, w in items
        ]
        self._blender.apply(loaded)
        self.blend = items

    # --------------------------------------------------------------- generation
    def _sampling(self, **kw: Any) -> Any:
        from bassd.models.decode_loop import Sampling

        s = Sampling(**kw)
        if s.temperature <= 0:
            raise ValueError("temperature must be > 0 (use greedy=True for argmax decoding)")
        if not 0 < s.top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        if s.top_k < 0:
            raise ValueError("top_k must be >= 0 (0: no top-k filter)")
        return s

    def _frames(self, seconds: float) -> int:
        frames = round(seconds * self.frame_rate)
        if frames < 1:
            raise ValueError(f"seconds must give at least one frame, got {seconds}")
        if frames > self.max_frames:
            raise ValueError(
                f"{seconds:g} s is longer than this model can generate in one clip "
                f"({self.max_frames / self.frame_rate:g} s)"
            )
        return frames

    def _decoder(self, frames: int, rows: int = 1) -> Any:
        from bassd.models.decode_loop import DecoderSteps

        need = frames + self.max_delay
        steps = self._steps.get(rows)
        version = self._blender.version if self._blender is not None else -1
        if steps is None or steps.max_steps < need:
            steps = DecoderSteps(self.model, need, rows=rows, fast_matmul=self.fast_matmul)
            self._steps[rows] = steps
            self._blend_versions[rows] = version
        elif self._blend_versions.get(rows) != version:
            steps.refresh()
            self._blend_versions[rows] = version
        return steps

    def _columns(
        self,
        prompts: Sequence[str],
        frames: Sequence[int],
        seeds: Sequence[int],
        samplings: Sequence[Any],
        adapters: Any,
        timings: dict[str, Any],
    ) -> Iterator[tuple[list[int], list[np.ndarray]]]:
        """Per prompt: (complete frames so far, codes buffer (K, frames)) after every
        decoder step, the N prompts decoded as one batch."""
        import torch

        t0 = time.perf_counter()
        if adapters is not None:
            self.set_adapters(adapters)
        n = len(prompts)
        steps = self._decoder(max(frames), rows=n)
        inputs = self.processor(text=list(prompts), padding=True, return_tensors="pt")
        steps.encode_text(inputs["input_ids"].to(self.device),
                          inputs["attention_mask"].to(self.device))  # fmt: skip
        timings["text_s"] = time.perf_counter() - t0
        gens = [torch.Generator(device=self.device).manual_seed(int(s)) for s in seeds]
        codes = [np.zeros((self.num_codebooks, f), dtype=np.int64) for f in frames]
        offsets = steps.offsets
        t1 = time.perf_counter()
        for t, cols in enumerate(steps.batch_columns(list(frames), list(samplings), gens)):
            c = t + 1
            for i, vals in enumerate(cols.tolist()):
                for k, o in enumerate(offsets):
                    j = c - 1 - o
                    if 0 <= j < frames[i]:
                        codes[i][k, j] = vals[k]
            timings["decoder_s"] = time.perf_counter() - t1
            yield [min(f, max(0, c - self.max_delay)) for f in frames], codes

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Audio (frames, channels) float32 from codes (K, n), in one piece."""
        import torch

        c = torch.as_tensor(np.asarray(codes, dtype=np.int64), device=self.device)
        with torch.inference_mode():
            enc = self.model.audio_encoder
            if self.channels == 1:
                parts = [enc.decode(c[None, None], [None]).audio_values[0, 0]]
            else:
                parts = [enc.decode(c[None, None, i::2], [None]).audio_values[0, 0]
                         for i in (0, 1)]  # fmt: skip
            out = torch.stack(parts, dim=-1).float().cpu().numpy()
        return np.ascontiguousarray(out[: codes.shape[1] * self.hop], dtype=np.float32)

    def generate(
        self,
        prompt: str,
        seconds: float,
        *,
        seed: int = 0,
        greedy: bool = False,
        temperature: float = 0.95,
        top_k: int = 150,
        top_p: float = 0.95,
        guidance: float = 1.6,
        adapters: Mapping[str, float] | Sequence[tuple[str, float]] | None = None,
        on_step: StepCallback | None = None,
    ) -> Generation:
        """One clip of ``seconds``; the defaults are the BASS system's sampling settings.

        ``greedy`` decodes by argmax (with classifier-free guidance ``guidance``).
        ``adapters`` (name or folder → weight) replaces the current blend.
        """
        t0 = time.perf_counter()
        sampling = self._sampling(greedy=greedy, temperature=temperature, top_k=top_k,
                                  top_p=top_p, guidance=guidance)  # fmt: skip
        frames = self._frames(seconds)
        timings: dict[str, float] = {}
        codes = np.zeros((self.num_codebooks, frames), dtype=np.int64)
        total = frames + self.max_delay
        columns = self._columns([prompt], [frames], [seed], [sampling], adapters, timings)
        for i, (_, buffers) in enumerate(columns, 1):
            codes = buffers[0]
            if on_step is not None:
                on_step(i, total)
        t1 = time.perf_counter()
        audio = self.decode(codes)
        timings["codec_s"] = time.perf_counter() - t1
        return Generation(audio, codes.copy(), self.sample_rate,
                          time.perf_counter() - t0, timings)  # fmt: skip

    def stream(
        self,
        prompt: str,
        seconds: float,
        *,
        seed: int = 0,
        greedy: bool = False,
        temperature: float = 0.95,
        top_k: int = 150,
        top_p: float = 0.95,
        guidance: float = 1.6,
        adapters: Mapping[str, float] | Sequence[tuple[str, float]] | None = None,
        first_chunk: int = 2,
        max_chunk: int = 50,
        left: int = 25,
        right: int = 2,
        stats: dict[str, Any] | None = None,
    ) -> Iterator[np.ndarray]:
        """Audio chunks (frames, channels) of the clip ``generate`` would make with the
        same arguments, as soon as each can be decoded (chunk lengths in code
        frames: ``first_chunk``, doubling to ``max_chunk``; ``left``/``right``: the
        decoding context, see :mod:`bassd.models.stream_decode`)."""
        sampling = dict(greedy=greedy, temperature=temperature, top_k=top_k, top_p=top_p,
                        guidance=guidance)  # fmt: skip
        request = {"prompt": prompt, "seconds": seconds, "seed": seed, "sampling": sampling}
        for _, chunk in self.stream_batch([request], adapters=adapters,
                                          stats=[{} if stats is None else stats],
                                          first_chunk=first_chunk, max_chunk=max_chunk,
                                          left=left, right=right):  # fmt: skip
            yield chunk

    def stream_batch(
        self,
        requests: Sequence[Mapping[str, Any]],
        *,
        adapters: Mapping[str, float] | Sequence[tuple[str, float]] | None = None,
        stats: Sequence[dict[str, Any]] | None = None,
        first_chunk: int = 2,
        max_chunk: int = 50,
        left: int = 25,
        right: int = 2,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Several clips decoded as one batch (one forward pass per step for all of them):
        yields (request index, chunk) as each chunk can be decoded; each clip's chunks are
        those ``stream`` makes for it alone, up to float rounding of the batched products.
        A request: ``prompt``, ``seconds``, ``seed`` and ``sampling`` (``stream``'s
        keywords); one adapter blend for all."""
        from bassd.models.stream_decode import StreamingDecoder

        n = len(requests)
        samplings = [self._sampling(**r.get("sampling", {})) for r in requests]
        frames = [self._frames(float(r["seconds"])) for r in requests]
        seeds = [int(r.get("seed", 0)) for r in requests]
        decs = [StreamingDecoder(self.decode, self.hop, left=left, right=right,
                                 first_chunk=first_chunk, max_chunk=max_chunk)
                for _ in requests]  # fmt: skip
        timings = list(stats) if stats is not None else [{} for _ in requests]
        if len(timings) != n:
            raise ValueError(f"{len(timings)} stats dicts for {n} requests")
        shared: dict[str, Any] = {}
        codec_s = [0.0] * n
        done = [False] * n
        t0 = time.perf_counter()
        prompts = [str(r["prompt"]) for r in requests]

        def finish(i: int, codes: np.ndarray) -> list[np.ndarray]:
            t1 = time.perf_counter()
            chunks = decs[i].finish(codes)
            codec_s[i] += time.perf_counter() - t1
            dec = decs[i]
            ends = [0, *dec.ends]
            timings[i].update(
                text_s=shared["text_s"], decoder_s=shared["decoder_s"], codec_s=codec_s[i],
                window_frames=list(dec.window_frames), chunk_seconds=list(dec.chunk_seconds),
                codes=codes.copy(), batch=n,
                chunk_frames=[b - a for a, b in zip(ends, dec.ends, strict=False)],
            )  # fmt: skip
            done[i] = True
            return chunks

        codes: list[np.ndarray] = []
        for ready, codes in self._columns(prompts, frames, seeds, samplings, adapters, shared):
            for i in range(n):
                if done[i]:
                    continue
                if ready[i] >= frames[i]:
                    chunks = finish(i, codes[i])
                else:
                    t1 = time.perf_counter()
                    chunks = decs[i].push(codes[i][:, : ready[i]])
                    codec_s[i] += time.perf_counter() - t1
                for chunk in chunks:
                    timings[i].setdefault("first_audio_s", time.perf_counter() - t0)
                    yield i, chunk
        for i in range(n):
            if not done[i]:
                for chunk in finish(i, codes[i]):
                    timings[i].setdefault("first_audio_s", time.perf_counter() - t0)
                    yield i, chunk


def default_threads() -> int:
    """Torch threads for a worker beside the audio engine: all cores but one."""
    return max(1, (os.cpu_count() or 2) - 1)
