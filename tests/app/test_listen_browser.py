"""A whole listening test in a real browser: headless Chromium (selenium, Debian's chromium and
chromium-driver) against the real ``bassd listen serve`` on kuramoto renders."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bassd.app.listen_analyse import analyse
from bassd.app.listen_answers import read_answers
from bassd.app.listen_design import parse_design
from bassd.app.listen_prepare import prepare, render_design

SPEC = {
    "name": "browser test",
    "seconds": 1.0,
    "start_s": 0.3,
    "fade_ms": 30,
    "seed": 4,
    "set": ["renderer.name=kuramoto"],
    "conditions": {"default": [], "dark": ["fx.lpf_hz=1000"]},
    "items": [{"category": "calm", "seed": 1}, {"category": "activating", "seed": 2}],
    "trials": {"mushra": {"reference": "default"}},
}
CHROMEDRIVER = "/usr/bin/chromedriver"


def _need_chromium() -> str:
    """The Chromium binary; fails in CI (never a silent skip there), skips elsewhere."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    missing = []
    if chromium is None:
        missing.append("chromium")
    if not Path(CHROMEDRIVER).exists():
        missing.append("chromium-driver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip: bassd[test])")
    if missing:
        what = ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"{what} not installed, and CI must run the browser test (.ci/setup)")
        pytest.skip(f"{what} not installed (Debian chromium, chromium-driver; pip selenium)")
    assert chromium is not None
    return chromium


def test_missing_chromium_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Chromium the browser test fails when CI is set (and only skips elsewhere)."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="chromium not installed, and CI must run"):
        _need_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="chromium"):
        _need_chromium()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(
    base: str, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, method=method, data=data,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            return r.status, json.loads(
                text
            ) if r.headers.get_content_type() == "application/json" else text
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A prepared test (two kuramoto conditions, two items, 1 s stimuli: 2 A/B and 2 MUSHRA
    trials) served by `python -m bassd listen serve` on a free port."""
    _need_chromium()
    folder = tmp_path_factory.mktemp("browser")
    prepare(render_design(parse_design(SPEC), folder), folder)
    port = _free_port()
    log = open(folder / "server.log", "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bassd", "listen", "serve", str(folder), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if call(base, "GET", "/api/test")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(f"the server did not start: {(folder / 'server.log').read_text()[-2000:]}")
        time.sleep(0.2)
    yield base, folder
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = _need_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--autoplay-policy=no-user-gesture-required",
                "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio"):  # fmt: skip
        opts.add_argument(arg)
    # the driver Debian ships, never one Selenium Manager would download
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _wait(driver: Any, what: str, cond: Any, timeout: float = 15.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(cond, message=what)


def _by_id(driver: Any, id_: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, id_)


def _play_all(driver: Any) -> None:
    """Click every Play button in turn and wait for its 'played' mark (the ended event)."""
    from selenium.webdriver.common.by import By

    for b in driver.find_elements(By.CSS_SELECTOR, "[data-play]"):
        name = b.get_attribute("id").removeprefix("play-")
        b.click()
        _wait(driver, f"{name} played to its end",
              lambda d, n=name: "played" in _by_id(d, f"played-{n}").text)  # fmt: skip


def _current(driver: Any) -> tuple[str, str]:
    el = _by_id(driver, "trial")
    return el.get_attribute("data-trial"), el.get_attribute("data-kind")


def test_a_listener_runs_the_whole_test_in_chromium(server: tuple[str, Path], browser: Any) -> None:
    """Chromium plays every stimulus to its end, sets the sliders, picks A or B and submits;
    a bad listener id and a submit before playing are refused with the message shown; a
    reload mid-test resumes at the next unanswered trial; 'Another listener' forgets the
    listener; answers.csv then holds exactly what was clicked, and analyse unblinds it."""
    from selenium.webdriver.common.by import By

    base, folder = server
    d = browser
    d.get(base + "/")
    _wait(d, "the login", lambda d: _by_id(d, "login").is_displayed())
    _by_id(d, "listener").send_keys("bad id!")
    _by_id(d, "start").click()
    _wait(d, "the bad-id message", lambda d: "listener id" in _by_id(d, "message").text)
    _by_id(d, "listener").clear()
    _by_id(d, "listener").send_keys("L1")
    _by_id(d, "start").click()

    expected: dict[str, dict[str, Any]] = {}
    previous = ""
    for step in range(4):
        # (None: the trial element has no data-trial yet; a slow machine was caught there)
        _wait(d, f"trial {step + 1}", lambda d, p=previous: _current(d)[0] not in ("", None, p))
        trial, kind = _current(d)
        assert _by_id(d, "progress").text == f"Trial {step + 1} of 4"
        if step == 0:
            # the page keeps Submit off until every stimulus has played; forced on, the
            # server refuses and the page says why
            assert not _by_id(d, "submit").is_enabled()
            if kind == "mushra":
                assert not _by_id(d, "rate-1-calmness").is_enabled()
            d.execute_script("document.getElementById('submit').disabled = false")
            _by_id(d, "submit").click()
            _wait(
                d, "the refusal", lambda d: "was not played to its end" in _by_id(d, "message").text
            )
            assert read_answers(folder / "answers.csv") == []
        if step == 2:
            d.refresh()
            _wait(d, "the page after the reload", lambda d: _current(d)[0] not in ("", None))
            assert _current(d) == (trial, kind), "a reload resumes at the next unanswered trial"
            assert _by_id(d, "progress").text == "Trial 3 of 4"
        _play_all(d)
        if kind == "ab":
            side = "AB"[step % 2]
            _by_id(d, f"choose-{side}").click()
            expected[trial] = {"choice": side,
                               "chosen": _by_id(d, f"play-{side}").get_attribute("data-play")}  # fmt: skip
        else:
            ratings: dict[str, dict[str, float]] = {}
            for j, el in enumerate(d.find_elements(By.CSS_SELECTOR, "input[type=range]")):
                value = (17 * j + 11 * step + 3) % 101
                d.execute_script("arguments[0].value = arguments[1];"
                                 "arguments[0].dispatchEvent(new Event('input'))", el, value)  # fmt: skip
                ratings.setdefault(el.get_attribute("data-stim"), {})[
                    el.get_attribute("data-scale")] = float(value)  # fmt: skip
            expected[trial] = {"ratings": ratings}
        _wait(d, "Submit enabled", lambda d: _by_id(d, "submit").is_enabled())
        _by_id(d, "submit").click()
        previous = trial
    _wait(d, "the end", lambda d: _by_id(d, "done").is_displayed())
    _by_id(d, "switch").click()  # the next listener on this computer starts afresh
    d.refresh()
    _wait(d, "the login for the next listener", lambda d: _by_id(d, "login").is_displayed())

    rows = read_answers(folder / "answers.csv")
    assert [r["trial"] for r in rows] == list(expected)
    for r in rows:
        want = expected[r["trial"]]
        assert r["listener"] == "L1"
        shown = r["stimuli"].split() + ([r["reference"]] if r["reference"] else [])
        assert json.loads(r["played"]) == dict.fromkeys(shown, True)
        if r["kind"] == "ab":
            assert (r["choice"], r["chosen"]) == (want["choice"], want["chosen"])
            assert r["ratings"] == ""
        else:
            assert json.loads(r["ratings"]) == want["ratings"]
        t0 = datetime.fromisoformat(r["started_utc"].replace("Z", "+00:00"))
        t1 = datetime.fromisoformat(r["answered_utc"].replace("Z", "+00:00"))
        assert 0 < (t1 - t0).total_seconds() < 120

    res = analyse(folder)
    key = json.loads((folder / "key.json").read_text())["stimuli"]
    for cond in ("default", "dark", "anchor"):
        given = [v["calmness"] for t in expected.values() for tok, v in t.get("ratings", {}).items()
                 if key[tok]["condition"] == cond]  # fmt: skip
        assert res.means["calmness"][cond]["mean"] == pytest.approx(sum(given) / len(given))
    picks = [key[t["chosen"]]["condition"] for t in expected.values() if "chosen" in t]
    assert res.ab[0]["a_wins"] == picks.count("default") and res.ab[0]["n"] == 2
    assert res.png.exists()
    (folder / "browser_answers.csv").write_text((folder / "answers.csv").read_text())


def test_the_server_refuses_bad_posts_and_serves_no_key(server: tuple[str, Path]) -> None:
    """Posted directly: a rating out of range, a non-JSON body and an unplayed stimulus get
    HTTP 400 with the reason and are counted; key.json, the renders and unknown tokens are
    not served."""
    base, folder = server
    assert call(base, "POST", "/api/start", {"listener": "L2"})[0] == 200
    _, nxt = call(base, "GET", "/api/next?listener=L2")
    t = nxt["trial"]
    everything = t["stimuli"] + ([t["reference"]] if t["reference"] else [])
    body: dict[str, Any] = {"listener": "L2", "trial": t["trial"],
                            "played": {s["id"]: True for s in everything}}  # fmt: skip
    if t["kind"] == "ab":
        body["choice"] = "C"
        want = "choose A or B"
    else:
        body["ratings"] = {
            s["id"]: {"calmness": 150, "valence": 1, "arousal": 1} for s in t["stimuli"]
        }
        want = "150 is outside 0–100"
    _, before = call(base, "GET", "/api/status")
    code, err = call(base, "POST", "/api/answer", body)
    assert code == 400 and want in err["error"]
    code, err = call(base, "POST", "/api/answer", raw=b"{not json")
    assert code == 400 and err["error"] == "the request body is not JSON"
    code, err = call(base, "POST", "/api/answer", {**body, "played": {}})
    assert code == 400 and "was not played to its end" in err["error"]
    _, after = call(base, "GET", "/api/status")
    assert after["refused"] == before["refused"] + 3
    assert not any(r["listener"] == "L2" for r in read_answers(folder / "answers.csv"))
    token = everything[0]["id"]
    assert call(base, "GET", f"/stimuli/{token}.wav")[0] == 200
    for path in ("/key.json", "/trials.json", "/answers.csv", "/stimuli/0123456789.wav",
                 "/stimuli/..%2Fkey.json", "/renders/default__calm-s1.wav"):  # fmt: skip
        assert call(base, "GET", path)[0] == 404, path
