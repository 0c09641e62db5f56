"""``bassd listen analyse DIR``: unblind the answers with the key and summarise them.

MUSHRA ratings: each listener's mean per condition and scale (over the items), then per
condition the mean over listeners with a 95 % t confidence interval (n − 1 degrees of
freedom), and for every pair of conditions a paired t-test over the listeners who rated
both. A paired t-test rather than Wilcoxon's signed-rank test: listener means of 0–100
ratings are close to normal, and with the handful of listeners a lab test has Wilcoxon
cannot reach p < 0.05 at all under six listeners (its smallest two-sided p is 2/2^n).

A/B answers: per condition pair, how often each side was preferred, with the exact
two-sided binomial (sign) test at ½ over all answers of that pair (answers of one
listener to several items are counted as independent, which the table notes).

Writes ``analysis.json`` and a PNG: per scale, the means with their CI bars.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from bassd.app.listen_answers import read_answers
from bassd.app.listen_stats import mean_ci, paired_t, sign_test

log = structlog.get_logger("bassd.listen")


class AnalyseError(ValueError):
    """A problem with a test folder's key, trials or answers, one line naming it."""


def _fmt(x: float, digits: int = 1) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.{digits}f}"


def _p(p: float) -> str:
    return "n/a" if not math.isfinite(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


@dataclass
class Analysis:
    folder: Path
    png: Path
    json_path: Path
    listeners: list[str]
    answers: int
    #: scale -> condition -> {mean, ci95, n}
    means: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    #: scale -> [{a, b, mean_diff, t, p, n}]
    paired: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: [{a, b, a_wins, b_wins, n, p}]
    ab: list[dict[str, Any]] = field(default_factory=list)

    def table(self) -> str:
        out = [f"{self.answers} answers from {len(self.listeners)} listeners "
               f"({', '.join(self.listeners)})"]  # fmt: skip
        for scale, conds in self.means.items():
            out.append(f"\nMUSHRA {scale} (0-100): mean over listeners, 95% t CI")
            out.append(f"  {'condition':<14}{'mean':>7}{'±CI95':>8}{'n':>4}")
            for c, m in conds.items():
                out.append(f"  {c:<14}{_fmt(m['mean']):>7}{_fmt(m['ci95']):>8}{m['n']:>4}")
            out.append("  paired t-test on listener means (two-sided):")
            for r in self.paired.get(scale, []):
                out.append(
                    f"    {r['a']} - {r['b']}: diff {_fmt(r['mean_diff'])}, "
                    f"t={_fmt(r['t'], 2)}, p={_p(r['p'])}, n={r['n']}"
                )
        if self.ab:
            out.append("\nA/B preference: exact two-sided binomial (sign) test at 1/2 "
                       "(each answer counted as independent)")  # fmt: skip
            for r in self.ab:
                out.append(
                    f"  {r['a']} vs {r['b']}: {r['a_wins']}-{r['b_wins']} of {r['n']} "
                    f"({_fmt(100 * r['a_wins'] / r['n'] if r['n'] else math.nan, 0)}% "
                    f"{r['a']}), p={_p(r['p'])}"
                )
        return "\n".join(out)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AnalyseError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise AnalyseError(f"{path}: not valid JSON: {exc}") from None


def analyse(folder: Path, png: Path | None = None) -> Analysis:
    folder = Path(folder)
    key = _read_json(folder / "key.json")
    stimuli: dict[str, dict[str, str]] = key["stimuli"]
    conditions: list[str] = list(key["conditions"])
    rows = read_answers(folder / "answers.csv")
    if not rows:
        raise AnalyseError(f"{folder / 'answers.csv'}: no answers yet")
    scales: list[str] = [s["name"] for s in _read_json(folder / "trials.json")["scales"]]

    def cond(token: str, where: str) -> str:
        if token not in stimuli:
            raise AnalyseError(f"{where}: stimulus {token!r} is not in key.json")
        return stimuli[token]["condition"]

    # listener -> scale -> condition -> [ratings over items]
    rated: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    ab: dict[tuple[str, str], list[int]] = {}
    listeners: list[str] = []
    for n, r in enumerate(rows, start=2):
        where = f"{folder / 'answers.csv'} line {n} (trial {r.get('trial')})"
        who = r["listener"]
        if who not in listeners:
            listeners.append(who)
        if r["kind"] == "mushra":
            try:
                ratings = json.loads(r["ratings"])
            except ValueError:
                raise AnalyseError(f"{where}: ratings are not JSON") from None
            for token, by_scale in ratings.items():
                c = cond(token, where)
                for scale, v in by_scale.items():
                    rated[who][scale][c].append(float(v))
        elif r["kind"] == "ab":
            a, b = (cond(t, where) for t in r["stimuli"].split())
            winner = cond(r["chosen"], where)
            order = sorted((a, b), key=lambda c: conditions.index(c))
            pair = (order[0], order[1])
            counts = ab.setdefault(pair, [0, 0])
            counts[0 if winner == pair[0] else 1] += 1
        else:
            raise AnalyseError(f"{where}: unknown kind {r['kind']!r}")

    res = Analysis(folder, png or folder / "analysis.png", folder / "analysis.json",
                   listeners, len(rows))  # fmt: skip
    rated_conds = [c for c in [*conditions, "anchor"] if any(
        c in rated[w][s] for w in rated for s in rated[w])]  # fmt: skip
    for scale in scales:
        if not any(scale in rated[w] for w in rated):
            continue
        per: dict[str, dict[str, float]] = {}  # condition -> listener -> mean
        for c in rated_conds:
            per[c] = {w: sum(v) / len(v) for w in rated if (v := rated[w][scale].get(c))}
        res.means[scale] = {}
        for c in rated_conds:
            m, half, k = mean_ci(list(per[c].values()))
            res.means[scale][c] = {"mean": m, "ci95": half, "n": k}
        res.paired[scale] = []
        for i, a in enumerate(rated_conds):
            for b in rated_conds[i + 1 :]:
                both = [w for w in per[a] if w in per[b]]
                x, y = [per[a][w] for w in both], [per[b][w] for w in both]
                t, p, k = paired_t(x, y)
                diff = sum(x) / len(x) - sum(y) / len(y) if both else math.nan
                res.paired[scale].append({"a": a, "b": b, "mean_diff": diff, "t": t, "p": p,
                                          "n": k})  # fmt: skip
    for (a, b), (wa, wb) in sorted(ab.items(), key=lambda kv: (
            conditions.index(kv[0][0]), conditions.index(kv[0][1]))):  # fmt: skip
        res.ab.append({"a": a, "b": b, "a_wins": wa, "b_wins": wb, "n": wa + wb,
                       "p": sign_test(wa, wa + wb)})  # fmt: skip

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    res.json_path.write_text(json.dumps(clean({
        "listeners": listeners, "answers": len(rows), "means": res.means,
        "paired_t": res.paired, "ab_sign_test": res.ab}), indent=2) + "\n",
        encoding="utf-8")  # fmt: skip
    _plot(res)
    log.info("listen_analysed", folder=str(folder), answers=len(rows), png=str(res.png))
    return res


def _plot(res: Analysis) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = len(res.means) + (1 if res.ab else 0)
    fig, axes = plt.subplots(1, max(panels, 1), figsize=(4.2 * max(panels, 1), 4.0),
                             squeeze=False)  # fmt: skip
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (scale, conds) in zip(axes[0], res.means.items(), strict=False):
        for i, (c, m) in enumerate(conds.items()):
            err = m["ci95"] if math.isfinite(m["ci95"]) else 0.0
            ax.errorbar([i], [m["mean"]], yerr=[err], fmt="o", capsize=5, ms=7,
                        color=colours[i % len(colours)], label=f"{c} (n={m['n']})")  # fmt: skip
        ax.set_xticks(range(len(conds)), list(conds), rotation=20)
        ax.set_xlim(-0.6, len(conds) - 0.4)
        ax.set_ylim(0, 100)
        ax.set_ylabel("rating (0-100)")
        ax.set_title(f"{scale}: mean ± 95% CI")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    if res.ab:
        ax = axes[0][len(res.means)]
        labels = [f"{r['a']}\nvs {r['b']}" for r in res.ab]
        share = [100 * r["a_wins"] / r["n"] for r in res.ab]
        ax.bar(range(len(share)), share, color=colours[0], label="preferred first-named")
        ax.axhline(50, color="k", lw=0.8, ls="--", label="no preference")
        for i, r in enumerate(res.ab):
            ax.text(i, share[i] + 2, f"{r['a_wins']}/{r['n']}\np={_p(r['p'])}", ha="center",
                    fontsize=8)  # fmt: skip
        ax.set_xticks(range(len(share)), labels)
        ax.set_xlim(-0.8, len(share) - 0.2)
        ax.set_ylim(0, 110)
        ax.set_ylabel("answers preferring the first-named (%)")
        ax.set_title("A/B preference (sign test)")
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"listening test: {len(res.listeners)} listeners, {res.answers} answers")
    fig.tight_layout()
    res.png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(res.png, dpi=110)
    plt.close(fig)
