"""Soundscape layers from a generated library (app/layers_mix.py, app/layers_cli.py,
app/session.py): vibes validated, the seeded mix deterministic and coherent, the HR state
and a recalled scene steering it, the offline render equal to the block-by-block live path,
a change of file smooth inside a whole session, and ten minutes without a gap."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from bassd.app.config import load_config
from bassd.app.layers_mix import build_mix, load_vibes, load_voice, narrow
from bassd.app.library import Library, index_paths
from bassd.app.offline import render_offline
from bassd.app.session import build_session
from bassd.control.addresses import BY_PATH
from bassd.control.osc_server import Request
from tests.library_sounds import labelled_set

SR = 48000


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layers")
    labelled_set(root / "sounds", per_class=4, secs=6.0)
    db = root / "lib.sqlite"
    with Library(db) as lib:
        index_paths(lib, [root / "sounds"])
    return db


def _config(tmp: Path, db: Path, *extra: str) -> Any:
    return load_config(overrides=[f"outputs.sessions_dir={tmp / 'sessions'}",
                                  f"library.path={db}", "layers.enabled=true", *extra])  # fmt: skip


def _rows(path: Path | None, kind: str) -> list[dict[str, str]]:
    assert path is not None
    with path.open() as f:
        return [r for r in csv.DictReader(f) if r["kind"] == kind]


def _request(address: str, replies: list[tuple[Any, ...]]) -> Request:
    return Request(address, ("127.0.0.1", 9), lambda *a: replies.append(a), lambda *a: None)


def test_vibes_are_data_and_validated(tmp_path: Path) -> None:
    """The four shipped vibes load; an unknown key or an unknown role is an error naming
    it; a file of your own adds a vibe over the shipped ones."""
    vibes = load_vibes()
    assert set(vibes.vibes) == {"zen", "focus", "energise", "sleep"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("vibes:\n  calm:\n    roles: [bed, bed, bed, bed]\n    colour: blue\n")
    with pytest.raises(ValueError, match="colour"):
        load_vibes(bad)
    bad.write_text("vibes:\n  calm:\n    roles: [bed, bed, bed, drone]\n")
    with pytest.raises(ValueError, match="unknown role 'drone'"):
        load_vibes(bad)
    good = tmp_path / "mine.yaml"
    good.write_text("vibes:\n  calm:\n    tags: [steady]\n    roles: [bed, texture, tonal, bed]\n")
    assert set(load_vibes(good).vibes) == {"zen", "focus", "energise", "sleep", "calm"}


def test_the_mix_is_seeded_and_coherent(library: Path) -> None:
    """The same seed gives the same four picks, another seed may differ; the four are
    distinct files inside the vibe's ranges, each layer of its role where the library has
    one (zen: a steady bed, a noise texture, a tonal layer), the anchor among the entries
    with the most of the vibe's tags."""
    vibes = load_vibes()
    with Library(library) as lib:
        a = build_mix(lib, vibes, "zen", seed=1)
        assert build_mix(lib, vibes, "zen", seed=1) == a
        draws = {build_mix(lib, vibes, "zen", seed=s).picks for s in range(6)}
        assert len(draws) > 1
        v = vibes.vibes["zen"]
        entries = {e.id: e for e in lib.entries()}
        ids = [p.entry_id for p in a.picks]
        assert len(ids) == 4 and len(set(ids)) == 4 and not a.widened
        for p in a.picks:
            d = entries[p.entry_id].descriptors
            assert d["onset_rate"] <= 2.5 and d["centroid_hz"] <= 4000
        roles = {p.role: entries[p.entry_id].descriptors for p in a.picks}
        assert roles["bed"]["onset_rate"] <= 0.5
        assert roles["texture"]["tonality"] <= 0.3
        assert roles["tonal"]["tonality"] >= 0.5
        wanted = set(v.tags)

        def tags(e: Any) -> int:
            return len(wanted & {*e.tags, *e.auto_tags})

        inside = [e for e in entries.values() if e.descriptors["onset_rate"] <= 0.5
                  and e.descriptors["centroid_hz"] <= 4000]  # fmt: skip
        assert tags(entries[a.picks[0].entry_id]) == max(tags(e) for e in inside)
        with pytest.raises(ValueError, match="unknown vibe 'party'"):
            build_mix(lib, vibes, "party", seed=0)


def test_a_stress_state_picks_calmer_layers(library: Path) -> None:
    """Under stress the ranges narrow (vibes.yaml states): every pick of an energise mix
    then has at most 1.5 onsets a second and a centroid at most 2.5 kHz, where the neutral
    mix has a click train (with too few such entries inside energise's own ranges, the
    state's bounds are kept and the vibe's dropped: widened)."""
    vibes = load_vibes()
    assert narrow({"onset_rate": (None, 3.0)}, {"onset_rate": (None, 1.5)}) == {
        "onset_rate": (None, 1.5)}  # fmt: skip
    with Library(library) as lib:
        entries = {e.id: e for e in lib.entries()}
        calm = build_mix(lib, vibes, "energise", seed=0, state="stress")
        neutral = build_mix(lib, vibes, "energise", seed=0)
    assert calm.widened and len(calm.picks) == 4
    for p in calm.picks:
        d = entries[p.entry_id].descriptors
        assert d["onset_rate"] <= 1.5 and d["centroid_hz"] <= 2500, p
    assert any(entries[p.entry_id].descriptors["onset_rate"] > 1.5 for p in neutral.picks)


def test_load_voice_loops_and_levels(library: Path) -> None:
    """A voice is the entry's loop at the engine rate, levelled to the RMS asked for."""
    with Library(library) as lib:
        entry = lib.entries(tags=["tonal"])[0]
        voice = load_voice(lib, entry.id, SR, level_dbfs=-20.0)
    rms = 20 * np.log10(np.sqrt(np.mean(voice.loop.astype(np.float64) ** 2)))
    assert abs(rms + 20.0) < 0.05 and voice.loop.dtype == np.float32
    assert voice.meta["end"] - voice.meta["start"] == len(voice.loop)


def _live_path(cfg: Any, seconds: float, feed: Any = None) -> np.ndarray:
    """The session driven block by block as the pump does (tick, then render), every load
    inline: what the live daemon plays once each load is handed over."""
    s = build_session(cfg, record_events=False)
    s.controller.start_session()
    out = []
    try:
        total = round(seconds * SR)
        while s.engine.frame < total:
            n = min(256, total - s.engine.frame)
            s.controller.tick()
            if feed is not None:
                feed(s, s.engine.frame, n)
            out.append(s.engine.render(n))
    finally:
        s.close()
    return np.concatenate(out)


def _pcm24(x: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x, -1, 1) * 8388607.0)


def test_offline_render_equals_the_live_path_and_a_file_change_is_smooth(
    library: Path, tmp_path: Path
) -> None:
    """renderer.name: layers (the layers alone), vibe zen: the offline WAV equals, at 24
    bits, the session rendered block by block with the same seed, including a
    /layers/2/file change at 6 s; that change and the start make no jump beyond the
    steady audio's, and the mix and the change are rows of events.csv."""
    cfg = _config(tmp_path, library, "renderer.name=layers", "layers.vibe=zen", "layers.seed=3",
                  "layers.crossfade_seconds=2")  # fmt: skip
    with Library(library) as lib:
        target = str(lib.entries(tags=["noise"])[-1].id)
    replies: list[tuple[Any, ...]] = []

    def feed(s: Any, frame0: int, n: int) -> None:
        if frame0 == 6 * SR // 256 * 256:
            entry = BY_PATH["/layers/2/file"]
            s.controller.dispatch(entry, (target,), _request(entry.path, replies))

    result = render_offline(cfg, 12.0, tmp_path / "off.wav", feed=feed)
    wav, sr = sf.read(str(tmp_path / "off.wav"), dtype="float64", always_2d=True)
    live = _live_path(cfg, 12.0, feed)
    assert sr == SR and wav.shape == live.shape
    assert np.array_equal(_pcm24(wav), _pcm24(live))
    assert replies == []
    mixes = _rows(result.events_csv, "layers_mix")
    assert len(mixes) == 1 and mixes[0]["value"] == "zen"
    assert len(json.loads(mixes[0]["detail"])["picks"]) == 4
    changed = _rows(result.events_csv, "layers_file")
    assert [r["value"] for r in changed] == [f"2:{target}"]
    steady = np.abs(np.diff(wav[3 * SR : 6 * SR], axis=0)).max()
    change = np.abs(np.diff(wav[6 * SR : 9 * SR], axis=0)).max()
    assert change <= 1.25 * max(steady, np.abs(np.diff(wav[9 * SR :], axis=0)).max())
    assert np.abs(np.diff(wav[: SR // 10], axis=0)).max() < 0.01  # the start fades in


def test_a_recalled_scene_rebuilds_the_mix_under_the_bed(library: Path, tmp_path: Path) -> None:
    """With layers.enabled (under the segment bed) a recalled scene named like a vibe
    rebuilds the mix for it, and /scene/surprise for the scene it draws; the layers' status
    names the files playing."""
    cfg = _config(tmp_path, library, "layers.seed=5")
    s = build_session(cfg, record_events=True, session="scene")
    try:
        s.controller.start_session()
        replies: list[tuple[Any, ...]] = []
        entry = BY_PATH["/scene"]
        s.controller.dispatch(entry, ("sleep",), _request(entry.path, replies))
        for _ in range(40):
            s.engine.render(256)
        figures = s.controller.status_figures()
        assert figures["layers_vibe"] == "sleep"
        assert len([n for n in figures["layers"].split(",") if n]) == 4
        entry = BY_PATH["/scene/surprise"]
        s.controller.dispatch(entry, (), _request(entry.path, replies))
        assert replies == []
        drawn = s.controller.status_figures()["scene"]
        assert s.controller.status_figures()["layers_vibe"] == drawn
        assert s.engine.bed  # under the bed, not alone
    finally:
        s.close()
    rows = _rows(s.events.path if s.events else None, "layers_mix")
    assert [r["value"] for r in rows] == ["sleep", drawn]
    assert json.loads(rows[0]["detail"])["how"] == "scene recalled"


def test_ten_minutes_of_layers_have_no_gap(library: Path, tmp_path: Path) -> None:
    """A 10-minute render of the focus layers alone (through bassd layers render): once the
    fade-in is done no 50 ms window is below -60 dBFS and nothing clips."""
    from bassd.cli import main

    out = tmp_path / "focus.wav"
    rc = main(["layers", "render", "--vibe", "focus", "--seconds", "600", "--out", str(out),
               "--library", str(library), "--seed", "2",
               "--set", f"outputs.sessions_dir={tmp_path / 'sessions'}"])  # fmt: skip
    assert rc == 0
    x, _sr = sf.read(str(out), dtype="float32")
    assert len(x) == 600 * SR
    w = SR // 20
    body = x[5 * SR : len(x) // w * w].reshape(-1, w, 2)
    rms = np.sqrt((body.astype(np.float64) ** 2).mean(axis=(1, 2)))
    assert 20 * np.log10(rms.min()) > -60.0
    assert np.abs(x).max() < 1.0


def test_cli_refuses_an_unknown_vibe_and_a_missing_library(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:  # fmt: skip
    """bassd layers render --vibe party: exit 2 naming the vibes; no library file: exit 2
    saying so (and none is created)."""
    from bassd.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["layers", "render", "--vibe", "party", "--out", str(tmp_path / "x.wav"),
              "--library", str(tmp_path / "none.sqlite")])  # fmt: skip
    assert exc.value.code == 2 and "unknown vibe 'party'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["layers", "render", "--vibe", "zen", "--out", str(tmp_path / "x.wav"),
              "--library", str(tmp_path / "none.sqlite")])  # fmt: skip
    assert exc.value.code == 2 and "no library" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()


def test_a_stress_state_rebuilds_the_playing_mix_calmer(library: Path, tmp_path: Path) -> None:
    """With the zen layers playing, the HR state turning to stress rebuilds the zen mix
    with the state's bounds (events row: how "state stress"): every new pick has at most
    1.5 onsets a second and a centroid at most 2.5 kHz."""
    cfg = _config(tmp_path, library, "renderer.name=layers", "layers.vibe=zen")
    s = build_session(cfg, record_events=True, session="stress")
    try:
        s.controller.start_session()
        s.engine.render(256)
        s.controller.hr.force_state(s.controller.now(), "stress")
        s.engine.render(256)
    finally:
        s.close()
    rows = _rows(s.events.path if s.events else None, "layers_mix")
    assert len(rows) == 2
    detail = json.loads(rows[1]["detail"])
    assert detail["how"] == "state stress" and detail["state"] == "stress"
    with Library(library) as lib:
        for p in detail["picks"]:
            d = lib.get(p["entry_id"]).descriptors
            assert d["onset_rate"] <= 1.5 and d["centroid_hz"] <= 2500, p
