"""``bassd listen serve DIR``: the listening test as a local web page (aiohttp).

The page (``app/listen_page/index.html``, package data: plain HTML, CSS and JS, nothing
fetched from elsewhere) asks the server for the listener's next unanswered trial, so a
reload resumes where the listener was. The server refuses (HTTP 400, a one-line message
the page shows; logged as ``listen_answer_refused`` and counted in ``/api/status``) an
answer for an unknown listener or trial, for a trial that is not the listener's next one
or is already answered, one that does not say every stimulus was played to its end, and
one with a missing, non-numeric or out-of-range (0–100) rating. An accepted answer is in
``answers.csv`` (fsynced, :mod:`bassd.app.listen_answers`) before the reply.

Only ``stimuli/<token>.wav`` of the test's trials are served: never ``key.json``, the
renders or the answers.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from bassd.app.listen_answers import AnswerFile, AnswersBusy, read_answers
from bassd.app.listen_order import ab_swapped, mushra_order, trial_order

log = structlog.get_logger("bassd.listen")

LISTENER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
TOKEN_PATTERN = re.compile(r"^[0-9a-f]{10}$")


class Refused(ValueError):
    """An answer or request the server will not take; the message is shown on the page."""


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Counters:
    accepted: int = 0
    refused: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class ListenTest:
    """A prepared test folder being answered: trials, listeners, what each has answered."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            data = json.loads((self.folder / "trials.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise Refused(f"{self.folder}: no prepared test here (trials.json: {exc})") from None
        self.name: str = data["name"]
        self.seed: int = int(data["seed"])
        self.scales: list[dict[str, str]] = data["scales"]
        self.scale_names = [s["name"] for s in self.scales]
        self.question: str = data.get("question", "Which one do you prefer?")
        self.trials: list[dict[str, Any]] = data["trials"]
        self.by_id = {t["id"]: i for i, t in enumerate(self.trials)}
        self.tokens: set[str] = set()
        for t in self.trials:
            self.tokens.update(t["stimuli"])
            if t.get("reference"):
                self.tokens.add(t["reference"])
        self.listeners_path = self.folder / "listeners.json"
        self.listeners: dict[str, int] = (
            json.loads(self.listeners_path.read_text(encoding="utf-8"))
            if self.listeners_path.exists()
            else {}
        )
        try:
            self.answers = AnswerFile(self.folder / "answers.csv")
        except AnswersBusy as exc:
            raise Refused(str(exc)) from None
        self.answered: set[tuple[str, str]] = {
            (r["listener"], r["trial"]) for r in read_answers(self.answers.path)
        }
        self.started: dict[tuple[str, str], str] = {}
        self.counters = Counters()

    # ------------------------------------------------------------------ listeners, order

    def register(self, listener: object) -> int:
        if not isinstance(listener, str) or not LISTENER_PATTERN.match(listener):
            raise Refused(
                "listener id: 1 to 40 letters, digits, '.', '_' or '-', starting with a "
                "letter or digit"
            )
        if listener not in self.listeners:
            self.listeners[listener] = len(self.listeners)
            tmp = self.listeners_path.with_suffix(".json.tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.listeners, f, indent=2)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.listeners_path)
            log.info("listen_listener", listener=listener, index=self.listeners[listener])
        return self.listeners[listener]

    def _index(self, listener: object) -> int:
        if not isinstance(listener, str) or listener not in self.listeners:
            raise Refused(f"unknown listener {listener!r}: enter your id to start")
        return self.listeners[listener]

    def order(self, listener: str) -> list[int]:
        return trial_order(len(self.trials), self.seed, self._index(listener))

    def presentation(self, listener: str, position: int) -> dict[str, Any]:
        """The trial at ``position`` of the listener's order, as the page shows it."""
        k = self._index(listener)
        ti = self.order(listener)[position]
        t = self.trials[ti]
        if t["kind"] == "ab":
            a, b = t["stimuli"]
            if ab_swapped(k, position):
                a, b = b, a
            stimuli = [{"id": a, "label": "A"}, {"id": b, "label": "B"}]
        else:
            perm = mushra_order(len(t["stimuli"]), self.seed, k, ti)
            stimuli = [{"id": t["stimuli"][j], "label": str(n + 1)} for n, j in enumerate(perm)]
        ref = t.get("reference")
        return {
            "trial": t["id"],
            "kind": t["kind"],
            "position": position,
            "total": len(self.trials),
            "stimuli": stimuli,
            "reference": {"id": ref, "label": "Reference"} if ref else None,
        }

    def next_position(self, listener: str) -> int | None:
        for pos, ti in enumerate(self.order(listener)):
            if (listener, self.trials[ti]["id"]) not in self.answered:
                return pos
        return None

    def next_trial(self, listener: str) -> dict[str, Any] | None:
        pos = self.next_position(listener)
        if pos is None:
            return None
        shown = self.presentation(listener, pos)
        self.started.setdefault((listener, shown["trial"]), now_utc())
        return shown

    # ------------------------------------------------------------------ answers

    def check(self, body: object) -> dict[str, Any]:
        """The CSV row of a valid answer; :class:`Refused` naming what is wrong."""
        if not isinstance(body, dict):
            raise Refused("the answer must be a JSON object")
        listener = body.get("listener")
        self._index(listener)
        assert isinstance(listener, str)
        trial = body.get("trial")
        if not isinstance(trial, str) or trial not in self.by_id:
            raise Refused(f"unknown trial {trial!r}")
        if (listener, trial) in self.answered:
            raise Refused(f"trial {trial} is already answered by {listener}")
        pos = self.next_position(listener)
        shown = self.presentation(listener, pos) if pos is not None else None
        if shown is None or shown["trial"] != trial:
            nxt = shown["trial"] if shown else "none"
            raise Refused(f"trial {trial} is not {listener}'s next trial ({nxt})")
        everything = [*shown["stimuli"], *([shown["reference"]] if shown["reference"] else [])]
        played = body.get("played")
        if not isinstance(played, dict):
            raise Refused(f"trial {trial}: 'played' must say which stimuli played to their end")
        for s in everything:
            if played.get(s["id"]) is not True:
                raise Refused(f"trial {trial}: stimulus {s['label']} was not played to its end")
        row: dict[str, Any] = {
            "listener": listener,
            "listener_index": self.listeners[listener],
            "trial": trial,
            "position": pos,
            "kind": shown["kind"],
            "stimuli": " ".join(s["id"] for s in shown["stimuli"]),
            "reference": shown["reference"]["id"] if shown["reference"] else "",
            "played": {s["id"]: True for s in everything},
        }
        if shown["kind"] == "ab":
            choice = body.get("choice")
            if choice not in ("A", "B"):
                raise Refused(f"trial {trial}: choose A or B (got {choice!r})")
            row["choice"] = choice
            row["chosen"] = shown["stimuli"][0 if choice == "A" else 1]["id"]
        else:
            row["ratings"] = self._ratings(trial, shown["stimuli"], body.get("ratings"))
        return row

    def _ratings(
        self, trial: str, stimuli: list[dict[str, str]], ratings: object
    ) -> dict[str, dict[str, float]]:
        if not isinstance(ratings, dict):
            raise Refused(f"trial {trial}: 'ratings' must map each stimulus to its ratings")
        ids = {s["id"] for s in stimuli}
        extra = sorted(set(ratings) - ids)
        if extra:
            raise Refused(f"trial {trial}: ratings for a stimulus not in the trial ({extra[0]})")
        out: dict[str, dict[str, float]] = {}
        for s in stimuli:
            given = ratings.get(s["id"])
            if not isinstance(given, dict):
                raise Refused(f"trial {trial}: stimulus {s['label']} is not rated")
            unknown = sorted(set(given) - set(self.scale_names))
            if unknown:
                raise Refused(f"trial {trial}: unknown scale {unknown[0]!r}")
            out[s["id"]] = {}
            for scale in self.scale_names:
                v = given.get(scale)
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise Refused(
                        f"trial {trial}: stimulus {s['label']}, {scale}: a number from 0 to "
                        f"100 is needed (got {v!r})"
                    )
                if not (math.isfinite(v) and 0 <= v <= 100):
                    raise Refused(
                        f"trial {trial}: stimulus {s['label']}, {scale}: {v!r} is outside 0–100"
                    )
                out[s["id"]][scale] = round(float(v), 2)
        return out

    def accept(self, body: object) -> dict[str, Any]:
        """Check and append one answer (fsynced before this returns)."""
        row = self.check(body)
        key = (row["listener"], row["trial"])
        row["started_utc"] = self.started.get(key) or now_utc()
        row["answered_utc"] = now_utc()
        self.answers.append(row)
        self.answered.add(key)
        self.counters.accepted += 1
        log.info("listen_answer", listener=row["listener"], trial=row["trial"], kind=row["kind"])
        return row

    def refuse(self, exc: Refused, what: str) -> web.Response:
        self.counters.refused += 1
        self.counters.reasons[what] = self.counters.reasons.get(what, 0) + 1
        log.warning("listen_answer_refused", request=what, reason=str(exc))
        return web.json_response({"error": str(exc)}, status=400)

    def progress(self, listener: str) -> dict[str, int]:
        done = sum(1 for t in self.trials if (listener, t["id"]) in self.answered)
        return {"answered": done, "total": len(self.trials)}


# ---------------------------------------------------------------------- HTTP


def page_html() -> str:
    return files("bassd.app.listen_page").joinpath("index.html").read_text(encoding="utf-8")


async def _json(request: web.Request) -> object:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        raise Refused("the request body is not JSON") from None


def make_app(folder: Path) -> web.Application:
    test = ListenTest(folder)
    page = page_html()
    app = web.Application(client_max_size=64 * 1024)
    app["test"] = test

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store"})  # fmt: skip

    async def info(_: web.Request) -> web.Response:
        return web.json_response(
            {"name": test.name, "scales": test.scales, "question": test.question,
             "total": len(test.trials)}
        )  # fmt: skip

    async def start(request: web.Request) -> web.Response:
        try:
            body = await _json(request)
            listener = body.get("listener") if isinstance(body, dict) else None
            index = test.register(listener)
        except Refused as exc:
            return test.refuse(exc, "start")
        assert isinstance(listener, str)
        return web.json_response({"listener": listener, "index": index,
                                  **test.progress(listener)})  # fmt: skip

    async def next_trial(request: web.Request) -> web.Response:
        listener = request.query.get("listener", "")
        try:
            shown = test.next_trial(listener)
        except Refused as exc:
            return test.refuse(exc, "next")
        return web.json_response({"done": shown is None, "trial": shown,
                                  **test.progress(listener)})  # fmt: skip

    async def answer(request: web.Request) -> web.Response:
        try:
            row = test.accept(await _json(request))
        except Refused as exc:
            return test.refuse(exc, "answer")
        except OSError as exc:
            log.error("listen_answer_not_saved", error=str(exc))
            return web.json_response({"error": f"the answer could not be saved: {exc}"},
                                     status=500)  # fmt: skip
        return web.json_response({"ok": True, **test.progress(row["listener"])})

    async def status(_: web.Request) -> web.Response:
        c = test.counters
        return web.json_response({"accepted": c.accepted, "refused": c.refused,
                                  "refused_by_request": c.reasons,
                                  "listeners": len(test.listeners)})  # fmt: skip

    async def stimulus(request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if not TOKEN_PATTERN.match(token) or token not in test.tokens:
            raise web.HTTPNotFound()
        return web.FileResponse(test.folder / "stimuli" / f"{token}.wav",
                                headers={"Cache-Control": "no-store"})  # fmt: skip

    app.router.add_get("/", index)
    app.router.add_get("/api/test", info)
    app.router.add_post("/api/start", start)
    app.router.add_get("/api/next", next_trial)
    app.router.add_post("/api/answer", answer)
    app.router.add_get("/api/status", status)
    app.router.add_get("/stimuli/{token}.wav", stimulus)

    async def close(_: web.Application) -> None:
        test.answers.close()

    app.on_cleanup.append(close)
    return app


def serve(folder: Path, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    app = make_app(folder)
    print(f"listening test {app['test'].name!r}: http://{host}:{port}/", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
