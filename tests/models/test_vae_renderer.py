"""The VAE renderer: seamless streams, smooth sliders that do what their names say, the
daemon's path offline, and the /vae addresses over real OSC datagrams."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from bassd.control.addresses import TABLE
from bassd.control.osc_codec import encode_message
from bassd.dsp.audio_descriptors import describe

SR = 48_000
JOIN = 4096  # output frames per vocoded chunk at 48 kHz (8 mel frames of 256 at 24 kHz)


@pytest.fixture(scope="module")
def voice(vae_library: Path):
    from bassd.models.vae_synth import load_voice

    return load_voice(vae_library / "tiny")


def _synth(voice, **kw):
    from bassd.models.vae_synth import TextureSynth

    return TextureSynth(voice, seed=3, **kw)


def test_the_stream_has_no_seams_and_ignores_slicing(voice) -> None:
    """Rendered in odd slices it equals one render; the steps at chunk joins are no larger
    than elsewhere (1.5x the 99.9th percentile) and no 10 ms window dips at a join."""
    whole = _synth(voice).render(6 * SR)
    s = _synth(voice)
    parts, done, rng = [], 0, np.random.default_rng(0)
    while done < 6 * SR:
        n = min(int(rng.integers(1, 9000)), 6 * SR - done)
        parts.append(s.render(n))
        done += n
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    y = whole[SR:, 0].astype(np.float64)
    steps = np.abs(np.diff(y))
    first = (JOIN - (SR % JOIN)) % JOIN  # the stream's joins fall every JOIN output frames
    joins = np.arange(first, len(steps), JOIN)
    assert steps[joins].max() <= 1.5 * np.percentile(steps, 99.9)
    win = SR // 100
    rms = np.sqrt(np.mean(y[: len(y) // win * win].reshape(-1, win) ** 2, axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-9))
    local = np.median(db)
    assert db.min() > local - 12.0  # no window falls far below the texture's level


def test_a_slider_move_is_smooth(voice) -> None:
    """Slider 1 jumping 0 -> 1 mid-stream: no sample step beyond 1.5x the largest of the steady
    renders at either end, and the 10 ms level moves gradually (glide, not a jump)."""
    steady = [_synth(voice, sliders=[v, 0.5, 0.5, 0.5][: len(voice.sliders)], drift=0.0)
              .render(3 * SR) for v in (0.0, 1.0)]  # fmt: skip
    s = _synth(voice, sliders=[0.0, 0.5, 0.5, 0.5][: len(voice.sliders)], drift=0.0)
    a = s.render(2 * SR)
    s.set_slider(0, 1.0)
    b = s.render(2 * SR)
    y = np.concatenate([a, b])[:, 0].astype(np.float64)
    bound = max(np.abs(np.diff(x[SR:, 0])).max() for x in steady)
    assert np.abs(np.diff(y[SR:])).max() <= 1.5 * bound
    win = SR // 100
    rms = np.sqrt(np.mean(y[: len(y) // win * win].reshape(-1, win) ** 2, axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-9))
    move = np.abs(np.diff(db[150:300]))  # 1.5 s .. 3 s: across the move
    still = np.abs(np.diff(db[300:]))
    assert move.max() <= max(6.0, 1.5 * still.max())


def test_named_sliders_move_their_descriptor(voice) -> None:
    """Every slider named after a descriptor raises it monotonically over its range on
    streamed renders (five settings, each higher than the last), as its fit said."""
    named = [s for s in voice.sliders.sliders if s.descriptor]
    assert named, "the tiny model has no named slider"
    for sl in named:
        values = [0.0, 0.25, 0.5, 0.75, 1.0]
        got = []
        for v in values:
            setting = [0.5] * len(voice.sliders)
            setting[sl.index - 1] = v
            y = _synth(voice, sliders=setting, drift=0.0).render(2 * SR)[SR // 2 :, 0]
            got.append(describe(y.astype(np.float64), SR)[sl.descriptor])
        assert np.all(np.diff(got) > 0), (sl.name, got)


def test_offline_render_is_deterministic_and_plays_the_model(
    vae_library: Path, tmp_path: Path
) -> None:
    """bassd render's path with renderer.name=vae: two renders give the same samples, every
    segment is the VAE's (no fallback), and the sliders come from the config by name."""
    import soundfile as sf

    from bassd.app.config import load_config
    from bassd.app.offline import render_offline

    def run(out: Path):
        cfg = load_config(None, [
            "renderer.name=vae", "vae.model=tiny", f"vae.library_dir={vae_library}",
            f"outputs.dir={tmp_path}", f"outputs.metrics_csv={tmp_path}/m.csv",
            f"outputs.sessions_dir={tmp_path}/s", "outputs.keep_audio=false",
            "timeline.segment_seconds=4", "timeline.crossfade_seconds=1",
            f"vae.sliders.{voice_name(vae_library)}=0.8"])  # fmt: skip
        return render_offline(cfg, 9.0, out, record_events=False)

    a, b = run(tmp_path / "a.wav"), run(tmp_path / "b.wav")
    assert a.fallbacks == b.fallbacks == 0 and a.segments >= 3
    ya, _ = sf.read(tmp_path / "a.wav")
    yb, _ = sf.read(tmp_path / "b.wav")
    np.testing.assert_array_equal(ya, yb)
    assert np.sqrt(np.mean(ya**2)) > 1e-3


def voice_name(vae_library: Path) -> str:
    from bassd.models.vae_pipeline import read_sliders

    return read_sliders(vae_library / "tiny").sliders[0].name


VAE = [a for a in TABLE if a.group == "vae"]


def test_the_vae_addresses_over_osc(vae_library: Path, tmp_path: Path) -> None:
    """Each /vae address, sent as a real datagram, is handled (sliders, preset save and recall,
    blend with a second model) and shows in /status; a bad value, an unknown preset or model,
    and slider 8 of a 4-slider model are refused with /error naming the address."""
    from tests.control.harness import Harness

    (tmp_path / "prompts").mkdir()
    h = Harness(tmp_path, ["renderer.name=vae", "vae.model=tiny",
                           f"vae.library_dir={vae_library}"])  # fmt: skip

    async def run() -> None:
        await h.start()
        h.render(0.1)
        vae = h.engine.vae()
        n = len(vae.slider_names)
        good = [
            ("/vae/slider/1", 0.9),
            ("/vae/preset/save", "bright"),
            ("/vae/slider/1", 0.1),
            ("/vae/preset", "bright"),
            ("/vae/blend", "tiny2", 0.5),
        ]
        for msg in good:
            h.send(encode_message(*msg))
            await h.settle()
        errors = [m for m in h.replies() if m.address == "/error"]
        assert errors == [], errors
        for _ in range(50):  # the preset's recall is offloaded: wait for it to land
            if vae.sliders[0] == pytest.approx(0.9):
                break
            await asyncio.sleep(0.02)
        st = h.controller.status()
        assert st.vae_sliders[vae.slider_names[0]] == pytest.approx(0.9)
        assert st.vae_blend.startswith(str(vae_library / "tiny2"))
        assert set(a.path for a in VAE) >= {m[0] for m in good}
        bad = [("/vae/slider/2", 1.5), ("/vae/preset", "nosuch"), ("/vae/blend", "nosuch", 0.5),
               (f"/vae/slider/{n + 1}", 0.5)]  # fmt: skip
        for msg in bad:
            h.send(encode_message(*msg))
            await h.settle()
            for _ in range(50):
                errs = [m for m in h.replies() if m.address == "/error"]
                if errs:
                    break
                await asyncio.sleep(0.02)
            assert len(errs) == 1 and errs[0].args[0] == msg[0], (msg, errs)
        h.render(0.1)
        h.transport.close()

    try:
        asyncio.run(run())
    finally:
        h.close()
