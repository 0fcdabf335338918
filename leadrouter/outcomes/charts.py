"""The outcome report's charts: PNGs drawn with matplotlib's Agg canvas (no pyplot, no global backend, so a
library caller's own matplotlib is left alone), and Unicode bar charts for markdown that renders anywhere."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from leadrouter.outcomes.join import THRESHOLDS

FIRST_RESPONSE_MIN = THRESHOLDS["speed_median_min"].limit  # drawn on the speed histogram
ACCEPTANCE = THRESHOLDS["acceptance_rate"].limit  # drawn on the reps chart
# speed-to-lead bins, in minutes: fine where the threshold is, coarse in the long tail
SPEED_EDGES = [0, 1, 2, 5, 15, 30, 60, 240, 1440, np.inf]
SPEED_LABELS = [
    "< 1 min",
    "1-2 min",
    "2-5 min",
    "5-15 min",
    "15-30 min",
    "30-60 min",
    "1-4 h",
    "4-24 h",
    "> 1 day",
]
LABEL_CHARS = 28  # longer rep ids are cut in chart labels (the tables have them whole)
PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"
DPI = 100
PASS_COLOUR, FAIL_COLOUR, BAR_COLOUR, LINE_COLOUR = "#2e7d32", "#c62828", "#3f6ec6", "#e08a00"
# PNGs carry no Software/creation stamps: the same data gives the same bytes
PNG_METADATA = {"Software": None}


def plain(text: object) -> str:
    """A label as literal text: '$' would start matplotlib's mathtext (and a parse error) in untrusted text."""
    return str(text).replace("$", r"\$")


def speed_bins(minutes: pd.Series) -> pd.Series:
    """Leads per speed-to-lead bin (leads never touched are left out)."""
    binned = pd.cut(minutes.dropna().clip(lower=0), SPEED_EDGES, labels=SPEED_LABELS, right=False)
    return binned.value_counts(sort=False).reindex(SPEED_LABELS, fill_value=0)


def text_bars(labels: list[str], values: list[float], notes: list[str], width: int = 30) -> str:
    """A bar chart in Unicode blocks, one line per label: label, bar scaled to the largest value, note."""
    if not labels:
        return "(no leads)"
    top = max([v for v in values if v == v] + [0.0])  # v == v: not NaN
    pad = max([len(label) for label in labels] + [1])
    lines = []
    for label, value, note in zip(labels, values, notes, strict=True):
        eighths = 0 if top <= 0 or value != value else round(value / top * width * 8)
        bar = "█" * (eighths // 8) + (PARTIAL_BLOCKS[eighths % 8] if eighths % 8 else "")
        lines.append(f"{label.ljust(pad)} │{bar.ljust(width)} {note}")
    return "\n".join(lines)


def _figure(width: float = 7.0, height: float = 3.6) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata=PNG_METADATA)
    return buffer.getvalue()


def conversion_chart(tier_table: pd.DataFrame) -> Figure:
    """Opportunity rate per tier, each bar labelled with its rate and lead count."""
    figure = _figure()
    ax = figure.add_subplot()
    rate = tier_table["opportunities"] / tier_table["leads"].replace(0, np.nan)
    labels = [plain(t) for t in tier_table["tier"]]
    bars = ax.bar(labels, rate.fillna(0), color=BAR_COLOUR)
    notes = [f"{r:.1%}\n{n:,} leads" for r, n in zip(rate.fillna(0), tier_table["leads"], strict=True)]
    ax.bar_label(bars, notes, fontsize=8, padding=2)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    top = rate.max(skipna=True)
    ax.set_ylim(0, max(0.0 if pd.isna(top) else float(top), 0.01) * 1.3)
    ax.set_title("Conversion to opportunity by tier")
    ax.set_ylabel("leads that became opportunities")
    return figure


def speed_chart(minutes: pd.Series) -> Figure:
    """Speed to lead on a log scale, with the 5-minute threshold and the share of leads under it."""
    figure = _figure()
    ax = figure.add_subplot()
    touched = minutes.dropna().clip(lower=0.1)  # a touch in the same second still shows on a log axis
    edges = np.logspace(-1, np.log10(max(float(touched.max()) if len(touched) else 10.0, 10.0) * 1.01), 40)
    ax.hist(touched, bins=edges, color=BAR_COLOUR)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.axvline(FIRST_RESPONSE_MIN, color=FAIL_COLOUR, linestyle="--")
    within = float((touched < FIRST_RESPONSE_MIN).mean()) if len(touched) else 0.0
    ax.text(FIRST_RESPONSE_MIN * 1.08, 0.95, f"{FIRST_RESPONSE_MIN:g}-minute threshold\n{within:.0%} of touched leads within",
            transform=ax.get_xaxis_transform(), va="top", fontsize=8, color=FAIL_COLOUR)  # fmt: skip
    ax.set_title(f"Speed to lead ({len(touched):,} touched, {int(minutes.isna().sum()):,} never touched)")
    ax.set_xlabel("minutes from lead created to first touch")
    ax.set_ylabel("leads")
    return figure


def weekly_chart(week_table: pd.DataFrame) -> Figure:
    """Pipeline per week (bars) and win rate of the week's closed deals (line)."""
    figure = _figure(8.0)
    ax = figure.add_subplot()
    weeks = [str(w) for w in week_table["week"]]
    ax.bar(weeks, week_table["pipeline"], color=BAR_COLOUR, label="pipeline")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel("pipeline (deal amount)")
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    rate_ax = ax.twinx()
    rate_ax.plot(weeks, week_table["win_rate"], color=LINE_COLOUR, marker="o", label="win rate")
    rate_ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    rate_ax.set_ylim(0, 1)
    rate_ax.set_ylabel("win rate (closed deals)")
    ax.set_title("Pipeline and win rate by week of decision")
    figure.legend(loc="outside lower center", ncols=2, fontsize=8)
    return figure


def reps_chart(rep_table: pd.DataFrame, limit: int = 25) -> Figure:
    """Per rep (most leads first, at most `limit`): acceptance and win rate side by side, leads in the label."""
    shown = rep_table.sort_values(["leads", "owner_id"], ascending=[False, True]).head(limit).iloc[::-1]
    figure = _figure(7.0, 1.2 + 0.28 * max(len(shown), 1))
    ax = figure.add_subplot()
    y = np.arange(len(shown))
    ax.barh(y + 0.2, shown["acceptance_rate"].fillna(0), 0.4, color=BAR_COLOUR, label="acceptance")
    ax.barh(y - 0.2, shown["win_rate"].fillna(0), 0.4, color=PASS_COLOUR, label="win rate")
    labels = [
        f"{plain(str(o)[:LABEL_CHARS])} ({n:,})"
        for o, n in zip(shown["owner_id"], shown["leads"], strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=7)
    ax.axvline(ACCEPTANCE, color=FAIL_COLOUR, linestyle="--", linewidth=1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.set_title(f"Reps (leads): acceptance, threshold {ACCEPTANCE:.0%}; win rate")
    ax.legend(loc="lower right", fontsize=7)
    return figure


def save_png(figure: Figure, path: Path) -> Path:
    path.write_bytes(png_bytes(figure))
    return path
