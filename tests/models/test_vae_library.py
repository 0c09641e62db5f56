"""The VAE model library: index, folders, presets, archives, crash safety, repair."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bassd.models.vae_library import (
    INDEX_FORMAT,
    LibraryError,
    VaeLibrary,
    atomic_write_json,
    default_root,
)


def _trained(folder: Path, marker: str = "weights") -> Path:
    """A folder as the trainer leaves it: model.pt, config.json, sliders.json."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.pt").write_bytes(marker.encode() * 100)
    (folder / "config.json").write_text(json.dumps({"latent": 8}))
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "sliders.json").write_text(json.dumps({"names": ["a", "b"]}))
    return folder


@pytest.fixture
def lib(tmp_path: Path) -> VaeLibrary:
    return VaeLibrary(tmp_path / "lib")


def _meta(**extra: object) -> dict[str, object]:
    meta: dict[str, object] = {
        "seconds_of_audio": 93.5,
        "n_files": 4,
        "description": "Dusty Rhodes chords",
        "tags": ["Keys", "lofi"],
    }
    meta.update(extra)
    return meta


def test_default_root_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The default library is $XDG_DATA_HOME/bassd/vae, else ~/.local/share/bassd/vae."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_root() == tmp_path / "bassd" / "vae"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_root() == tmp_path / "home" / ".local" / "share" / "bassd" / "vae"


def test_add_list_info_path(lib: VaeLibrary, tmp_path: Path) -> None:
    """add copies the folder in under the name and indexes it with its metadata."""
    src = _trained(tmp_path / "out")
    folder = lib.add("rhodes", src, _meta(epochs=40))
    assert folder == lib.root / "rhodes" == lib.path("rhodes")
    assert (folder / "model.pt").read_bytes() == (src / "model.pt").read_bytes()
    assert lib.names() == ["rhodes"]
    info = lib.info("rhodes")
    assert info["files"] == ["config.json", "model.pt", "sub/sliders.json"]
    assert info["seconds_of_audio"] == 93.5 and info["n_files"] == 4
    assert info["tags"] == ["Keys", "lofi"] and info["epochs"] == 40
    assert "T" in info["created"]
    index = json.loads((lib.root / "index.json").read_text())
    assert index["format"] == INDEX_FORMAT and index["version"] == 1
    assert not list(lib.root.glob(".tmp-*"))


def test_add_refuses_existing_name_unless_replace(lib: VaeLibrary, tmp_path: Path) -> None:
    """A taken name is refused; replace=True swaps in the new folder."""
    lib.add("m", _trained(tmp_path / "a", "old"))
    with pytest.raises(LibraryError, match="'m' already exists"):
        lib.add("m", _trained(tmp_path / "b", "new"))
    with pytest.raises(LibraryError, match="only by case"):
        lib.add("M", _trained(tmp_path / "b", "new"))
    lib.add("m", tmp_path / "b", {"description": "v2"}, replace=True)
    assert (lib.path("m") / "model.pt").read_bytes().startswith(b"new")
    assert lib.info("m")["description"] == "v2"
    assert not list(lib.root.glob(".tmp-*"))


@pytest.mark.parametrize(
    "bad", ["", ".hidden", "a/b", "..", "has space", "x" * 65, "ü", "index.json"]
)
def test_invalid_names_refused(lib: VaeLibrary, tmp_path: Path, bad: str) -> None:
    """Names outside 1-64 of [A-Za-z0-9._-] (or starting with a dot) are refused."""
    with pytest.raises(LibraryError, match="invalid model name"):
        lib.add(bad, _trained(tmp_path / "src"))
    assert lib.names() == []


def test_valid_names_accepted(lib: VaeLibrary, tmp_path: Path) -> None:
    """Letters, digits, '-', '_' and inner dots up to 64 characters are fine."""
    src = _trained(tmp_path / "src")
    for name in ["a", "Bass_v1.2-final", "9" * 64]:
        lib.add(name, src)
    assert lib.names() == sorted(["a", "Bass_v1.2-final", "9" * 64])


def test_bad_metadata_refused(lib: VaeLibrary, tmp_path: Path) -> None:
    """Metadata of the wrong type is refused before anything lands in the library."""
    src = _trained(tmp_path / "src")
    with pytest.raises(LibraryError, match="tags"):
        lib.add("m", src, {"tags": "keys"})
    with pytest.raises(LibraryError, match="seconds_of_audio"):
        lib.add("m", src, {"seconds_of_audio": float("nan")})
    assert lib.names() == [] and not (lib.root / "m").exists()


def test_missing_model_is_a_clear_error(lib: VaeLibrary, tmp_path: Path) -> None:
    """Unknown names raise LibraryError naming the model and the known ones."""
    lib.add("a", _trained(tmp_path / "s"))
    lib.add("b", tmp_path / "s")
    for call in (lib.info, lib.path, lib.delete, lib.presets):
        with pytest.raises(LibraryError, match=r"no model called 'x' \(known: a, b\)"):
            call("x")
    with pytest.raises(LibraryError, match="no model called 'x'"):
        lib.export("x", tmp_path)


def test_register_in_place(lib: VaeLibrary) -> None:
    """register indexes a folder the trainer wrote inside the library."""
    _trained(lib.root / "fresh")
    entry = lib.register("fresh", _meta())
    assert lib.names() == ["fresh"] and entry["files"][0] == "config.json"
    with pytest.raises(LibraryError, match="already registered"):
        lib.register("fresh", {})
    with pytest.raises(LibraryError, match="not a folder"):
        lib.register("ghost", {})


def test_search(lib: VaeLibrary, tmp_path: Path) -> None:
    """search matches name, description and tags, case-insensitively."""
    src = _trained(tmp_path / "s")
    lib.add("rhodes", src, _meta())
    lib.add("tabla", src, {"description": "Hand drums", "tags": ["percussion"]})
    assert lib.search("RHODES") == ["rhodes"]
    assert lib.search("dusty") == ["rhodes"]
    assert lib.search("PERCUSS") == ["tabla"]
    assert lib.search("hand tabla") == ["tabla"]
    assert lib.search("") == ["rhodes", "tabla"]
    assert lib.search("violin") == []


def test_rename_and_delete(lib: VaeLibrary, tmp_path: Path) -> None:
    """rename moves folder and entry; delete removes both."""
    src = _trained(tmp_path / "s")
    lib.add("a", src, _meta())
    lib.add("b", src)
    lib.save_preset("a", "soft", [0.1, 0.2])
    lib.rename("a", "c")
    assert lib.names() == ["b", "c"] and not (lib.root / "a").exists()
    assert lib.info("c")["description"] == "Dusty Rhodes chords"
    assert lib.presets("c") == ["soft"]
    with pytest.raises(LibraryError, match="already exists"):
        lib.rename("c", "b")
    lib.delete("c")
    assert lib.names() == ["b"] and not (lib.root / "c").exists()
    assert lib.check() == []


def test_export_import_round_trip(lib: VaeLibrary, tmp_path: Path) -> None:
    """An exported .bassdvae imports into another library with files, entry and presets."""
    lib.add("rhodes", _trained(tmp_path / "s"), _meta(epochs=40))
    lib.save_preset("rhodes", "warm", {"brightness": 0.25})
    out = lib.export("rhodes", tmp_path / "share" / "rhodes")
    assert out.name == "rhodes.bassdvae" and zipfile.is_zipfile(out)
    with zipfile.ZipFile(out) as zf:
        assert "entry.json" in zf.namelist()
    other = VaeLibrary(tmp_path / "other")
    assert other.import_(out) == "rhodes"
    a, b = lib.path("rhodes"), other.path("rhodes")
    for rel in lib.info("rhodes")["files"]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
    info = other.info("rhodes")
    assert info["epochs"] == 40 and info["tags"] == ["Keys", "lofi"]
    assert info["created"] == lib.info("rhodes")["created"]
    assert other.preset("rhodes", "warm")["values"] == {"brightness": 0.25}
    assert lib.export("rhodes", tmp_path).name == "rhodes.bassdvae"


def test_import_name_conflict_and_new_name(lib: VaeLibrary, tmp_path: Path) -> None:
    """Importing over a taken name is refused; a new name imports a second copy."""
    lib.add("rhodes", _trained(tmp_path / "s"))
    out = lib.export("rhodes", tmp_path / "x.bassdvae")
    with pytest.raises(LibraryError, match="'rhodes' already exists; give a new name"):
        lib.import_(out)
    assert lib.import_(out, name="rhodes-2") == "rhodes-2"
    assert lib.names() == ["rhodes", "rhodes-2"]
    with pytest.raises(LibraryError, match="invalid model name"):
        lib.import_(out, name="../evil")


def _archive(path: Path, members: dict[str, bytes], entry: bool = True) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        if entry:
            head = {"format": "bassd-vae-export", "version": 1, "name": "evil", "entry": {}}
            zf.writestr("entry.json", json.dumps(head))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "member", ["../escape.txt", "model/../../escape.txt", "/etc/escape.txt", "model\\..\\x"]
)
def test_zip_slip_refused(lib: VaeLibrary, tmp_path: Path, member: str) -> None:
    """Archives with absolute or '..' member paths are refused and write nothing."""
    bad = _archive(tmp_path / "bad.bassdvae", {"model/config.json": b"{}", member: b"x"})
    with pytest.raises(LibraryError, match="unsafe path"):
        lib.import_(bad)
    assert not (tmp_path / "escape.txt").exists()
    assert lib.names() == [] and not lib.root.exists()


def test_bad_archives_refused(tmp_path: Path) -> None:
    """Non-zips, archives without entry.json and oversized archives are refused."""
    lib = VaeLibrary(tmp_path / "lib", max_import_bytes=1000)
    (tmp_path / "junk.bassdvae").write_bytes(b"not a zip")
    with pytest.raises(LibraryError, match="not a zip"):
        lib.import_(tmp_path / "junk.bassdvae")
    noentry = _archive(tmp_path / "n.bassdvae", {"model/a": b"1"}, entry=False)
    with pytest.raises(LibraryError, match=r"no entry\.json"):
        lib.import_(noentry)
    big = _archive(tmp_path / "big.bassdvae", {"model/a": b"0" * 2000})
    with pytest.raises(LibraryError, match="over 1000 bytes"):
        lib.import_(big)
    stray = _archive(tmp_path / "s.bassdvae", {"other/a": b"1"})
    with pytest.raises(LibraryError, match="outside model/"):
        lib.import_(stray)
    with pytest.raises(LibraryError, match="no such file"):
        lib.import_(tmp_path / "absent.bassdvae")
    assert lib.names() == []


def test_presets_save_recall_list_delete(lib: VaeLibrary, tmp_path: Path) -> None:
    """Slider sets by name or by position are stored, listed, recalled and deleted."""
    lib.add("m", _trained(tmp_path / "s"))
    lib.save_preset("m", "warm pad", {"brightness": 0.25, "grit": 1})
    lib.save_preset("m", "init", [0.0, -1.5, 2])
    assert lib.presets("m") == ["init", "warm pad"]
    assert lib.preset("m", "warm pad")["values"] == {"brightness": 0.25, "grit": 1.0}
    assert lib.preset("m", "init")["values"] == [0.0, -1.5, 2.0]
    lib.save_preset("m", "init", [1.0])
    assert lib.preset("m", "init")["values"] == [1.0]
    lib.delete_preset("m", "init")
    assert lib.presets("m") == ["warm pad"]
    with pytest.raises(LibraryError, match=r"no preset called 'init' \(known: warm pad\)"):
        lib.preset("m", "init")
    with pytest.raises(LibraryError, match="finite"):
        lib.save_preset("m", "bad", [float("inf")])
    assert "presets.json" not in lib.info("m")["files"]


def test_atomic_write_json_keeps_backup(tmp_path: Path) -> None:
    """Each write keeps the previous version as .bak and leaves no temp files."""
    target = tmp_path / "x.json"
    atomic_write_json(target, {"v": 1})
    atomic_write_json(target, {"v": 2})
    assert json.loads(target.read_text()) == {"v": 2}
    assert json.loads((tmp_path / "x.json.bak").read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json", "x.json.bak"]
    with pytest.raises(TypeError):
        atomic_write_json(target, {"v": object()})
    assert json.loads(target.read_text()) == {"v": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json", "x.json.bak"]


def test_corrupt_index_falls_back_to_backup(lib: VaeLibrary, tmp_path: Path) -> None:
    """A truncated index.json is read from index.json.bak with `recovered` set."""
    src = _trained(tmp_path / "s")
    lib.add("a", src)
    lib.add("b", src)  # the .bak now holds the index with just 'a'
    raw = (lib.root / "index.json").read_bytes()
    (lib.root / "index.json").write_bytes(raw[: len(raw) // 2])
    fresh = VaeLibrary(lib.root)
    assert fresh.names() == ["a"] and fresh.recovered
    assert any("backup" in p for p in fresh.check())
    fresh.repair()  # rewrites the index and re-registers b's folder (it has config.json)
    again = VaeLibrary(lib.root)
    assert again.names() == ["a", "b"] and not again.recovered
    backup = json.loads((lib.root / "index.json.bak").read_text())
    assert list(backup["models"]) == ["a"]  # the broken file never became the backup


def test_missing_index_falls_back_to_backup(lib: VaeLibrary, tmp_path: Path) -> None:
    """A deleted index.json is read from index.json.bak with `recovered` set."""
    src = _trained(tmp_path / "s")
    lib.add("a", src)
    lib.add("b", src)
    (lib.root / "index.json").unlink()
    fresh = VaeLibrary(lib.root)
    assert fresh.names() == ["a"] and fresh.recovered


def test_both_index_copies_corrupt_raise(lib: VaeLibrary, tmp_path: Path) -> None:
    """index.json and its .bak both unusable is a LibraryError naming both files."""
    src = _trained(tmp_path / "s")
    lib.add("a", src)
    lib.add("b", src)
    (lib.root / "index.json").write_bytes(b'{"format": "bassd-vae-lib')
    (lib.root / "index.json.bak").write_text(json.dumps({"format": "other"}))
    with pytest.raises(LibraryError, match=r"index\.json.*unreadable.*index\.json\.bak.*invalid"):
        VaeLibrary(lib.root).names()


_WRITER = """
import sys
from pathlib import Path
from bassd.models.vae_library import INDEX_FORMAT, atomic_write_json
root, gen = Path(sys.argv[1]), int(sys.argv[2])
entry = {"created": "2024-01-01T00:00:00+00:00", "files": ["model.pt"], "seconds_of_audio": 1.0,
         "n_files": 1, "description": "x" * 200, "tags": ["t"]}
print("ready", flush=True)
while True:
    gen += 1
    models = {f"m{i:05d}": dict(entry, generation=gen) for i in range(2000)}
    atomic_write_json(root / "index.json", {"format": INDEX_FORMAT, "version": 1, "models": models})
"""


def _big_index(gen: int, n: int = 2000) -> dict[str, object]:
    """A valid index of ``n`` models (~600 kB) stamped ``gen``, as _WRITER writes it."""
    entry = {
        "created": "2024-01-01T00:00:00+00:00",
        "files": ["model.pt"],
        "seconds_of_audio": 1.0,
        "n_files": 1,
        "description": "x" * 200,
        "tags": ["t"],
    }
    models = {f"m{i:05d}": dict(entry, generation=gen) for i in range(n)}
    return {"format": INDEX_FORMAT, "version": 1, "models": models}


def _generation(path: Path) -> int:
    """The one generation of a complete index file (asserts structure and no mixing)."""
    data = json.loads(path.read_bytes())
    assert data["format"] == INDEX_FORMAT and data["version"] == 1
    assert len(data["models"]) == 2000
    gens = {entry["generation"] for entry in data["models"].values()}
    assert len(gens) == 1
    return gens.pop()


def test_index_survives_sigkill_mid_write(tmp_path: Path) -> None:
    """A writer killed with SIGKILL at random moments leaves an old or new complete index."""
    root = tmp_path / "lib"
    root.mkdir()
    atomic_write_json(root / "index.json", _big_index(0))
    atomic_write_json(root / "index.json", _big_index(0))  # and a .bak
    rng = random.Random(1234)
    last = 0
    for kill in range(1, 21):
        base = kill * 1000  # this writer's generations are base+1, base+2, ...
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(root), str(base)],
            stdout=subprocess.PIPE,
            cwd=tmp_path,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        try:
            proc.wait(timeout=rng.uniform(0.0, 0.05))  # the writer never exits by itself
        except subprocess.TimeoutExpired:
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        lib = VaeLibrary(root)
        assert len(lib.names()) == 2000 and not lib.recovered
        gen = _generation(root / "index.json")
        assert gen == last or gen > base  # the previous version or one this writer completed
        assert _generation(root / "index.json.bak") <= gen
        last = gen
    VaeLibrary(root).repair()  # clears the temp files of killed writes
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]


def test_check_and_repair_inconsistent_library(lib: VaeLibrary, tmp_path: Path) -> None:
    """check reports orphans both ways; repair re-registers model folders, drops stale entries."""
    src = _trained(tmp_path / "s")
    lib.add("kept", src)
    lib.add("gone", src)
    shutil.rmtree(lib.root / "gone")
    _trained(lib.root / "orphan")  # written by a trainer, never registered
    (lib.root / "junk").mkdir()  # no config.json: not a model
    (lib.root / ".tmp-add-crashed").mkdir()
    problems = lib.check()
    assert any("'gone'" in p and "missing" in p for p in problems)
    assert any("'orphan'" in p and "no index entry" in p for p in problems)
    assert any("'junk'" in p for p in problems)
    assert any(".tmp-add-crashed" in p for p in problems)
    actions = lib.repair()
    assert any("left folder 'junk'" in a for a in actions)
    assert lib.names() == ["kept", "orphan"]
    assert lib.info("orphan")["files"] == ["config.json", "model.pt", "sub/sliders.json"]
    assert lib.check() == ["folder 'junk' has no index entry"]
    with pytest.raises(LibraryError, match="no model called 'gone'"):
        lib.path("gone")
