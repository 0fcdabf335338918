"""The outcome report: the analyst tables beside the seed's thresholds, VIP precision and recall, Nurture leads
that came back hot, and the rules to re-tier, as markdown (the Prefect artifact) and as an HTML folder with PNG
charts and CSVs (`leadrouter report`). Ids, rule names and any lead text are escaped in both. The tables'
display strings are `display`'s."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from leadrouter import inert
from leadrouter.outcomes import charts
from leadrouter.outcomes.display import (
    hot_table,
    in_tier_order,
    metric_table,
    named,
    rule_table,
    tier_threshold_table,
)
from leadrouter.outcomes.feedback import MIN_RULE_LEADS, retier_candidates, rule_report
from leadrouter.outcomes.join import against_thresholds, nurture_turned_hot
from leadrouter.outcomes.notes import (
    chart_gaps,
    conversion,
    heading,
    rep_table,
    speed_note,
    undated_note,
    vip_note,
)

NOTE_LIMIT = 2000  # a section's note is our own sentence: escaped, never cut


@dataclass
class Section:
    title: str
    note: str = ""
    table: pd.DataFrame | None = None  # display strings, already formatted
    charts: list[str] = field(default_factory=list)  # PNG file names
    csv: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # why a chart is left out (it would be empty)


def csv_name(table: str) -> str:
    """The CSV file of an analyst table: by_tier.csv, by_rep_VIP.csv (a file name has no colon)."""
    return f"by_{table.replace(':', '_')}.csv"


def sections(
    tables: dict[str, pd.DataFrame],
    frame: pd.DataFrame,
    as_of: pd.Timestamp | None,
    rates: pd.DataFrame | None = None,
) -> list[Section]:
    """The report's parts, shared by the markdown artifact and the HTML page; a chart that would be empty is
    replaced by the sentence saying why."""
    gaps = chart_gaps(tables, frame, as_of)

    def drawn(*names: str) -> dict[str, list[str]]:
        return {"charts": [n for n in names if n not in gaps], "gaps": [gaps[n] for n in names if n in gaps]}

    rules = rule_report(frame)
    candidates = retier_candidates(rules)
    reps_name, reps = rep_table(tables)
    hot = nurture_turned_hot(frame)
    rules_note = (
        f"{len(candidates)} rule{'s' if len(candidates) > 1 else ''} convert{'' if len(candidates) > 1 else 's'} "
        "significantly and markedly unlike the tier (LEADROUTER_RETIER_MIN_RATIO) and nearer another tier's "
        "average: candidates to re-tier."
        if len(candidates)
        else f"No rule converts both significantly and markedly unlike its tier (rules with at least "
        f"{MIN_RULE_LEADS} leads tested; a ratio to the tier of at least LEADROUTER_RETIER_MIN_RATIO)."
    )
    undated = [Section("Deals without dates", note)] if (note := undated_note(frame)) else []
    source = "By lead source" if tables["source"].columns[0] == "lead_source" else "By source"
    return [
        *undated,
        Section("Tiers against the operating thresholds", table=tier_threshold_table(tables, frame, rates),
                csv=["by_tier.csv", "thresholds.csv"]),
        Section("Conversion by tier", **drawn("conversion_by_tier.png")),
        Section("Speed to lead", speed_note(frame), **drawn("speed_to_lead.png")),
        Section("VIP precision and recall", vip_note(frame, as_of, rates)),
        Section("Nurture leads that turned hot", f"{len(hot):,} Nurture leads became opportunities within 90 days.",
                table=hot_table(hot), csv=["nurture_turned_hot.csv"]),
        Section("Rules to re-tier", rules_note, table=rule_table(rules), csv=["rule_report.csv"]),
        Section("Pipeline and win rate by week", table=metric_table(tables["week"]), **drawn("by_week.png"),
                csv=["by_week.csv"]),
        Section("Reps", table=metric_table(reps), **drawn("reps.png"), csv=[csv_name(reps_name)]),
        Section("By decider", table=metric_table(tables["decided_kind"]), csv=["by_decided_kind.csv"]),
        Section(source, table=metric_table(tables["source"]), csv=["by_source.csv"]),
    ]  # fmt: skip


def markdown_table(table: pd.DataFrame) -> list[str]:
    if table.empty:
        return []
    header = "| " + " | ".join(inert.markdown(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(table.columns))) + "|"
    rows = ["| " + " | ".join(inert.markdown(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return [header, rule, *rows, ""]


def text_charts(tables: dict[str, pd.DataFrame], frame: pd.DataFrame) -> dict[str, str]:
    """The charts as Unicode bars in code blocks: they render in any markdown viewer."""
    tier = in_tier_order(tables["tier"])
    rate = conversion(tier["opportunities"], tier["leads"]).fillna(0)
    labels = [str(t).replace("`", "'") for t in tier["tier"]]
    notes = [f"{r:.1%} of {n:,}" for r, n in zip(rate, tier["leads"], strict=True)]
    bins = charts.speed_bins(frame["speed_to_lead_min"])
    return {
        "conversion_by_tier.png": charts.text_bars(labels, rate.tolist(), notes),
        "speed_to_lead.png": charts.text_bars(list(bins.index), bins.astype(float).tolist(),
                                              [f"{n:,}" for n in bins]),
    }  # fmt: skip


def report_markdown(
    tables: dict[str, pd.DataFrame],
    frame: pd.DataFrame,
    as_of: pd.Timestamp | None = None,
    embed_png: bool = False,
    rates: pd.DataFrame | None = None,
) -> str:
    """The outcome-report artifact: tables, Unicode bar charts for conversion and speed to lead, and with
    embed_png the PNG charts as data: URIs too (Prefect's UI renders data:image/ sources). rates: fx_rates'
    rows, for the VIP cut across currencies."""
    tables = named(tables)
    bars = text_charts(tables, frame)
    pngs = png_charts(tables, frame, as_of) if embed_png else {}
    lines = ["# Outcome report", "", heading(frame), ""]
    for section in sections(tables, frame, as_of, rates):
        lines += [f"## {section.title}", ""]
        lines += [inert.markdown(section.note, NOTE_LIMIT), ""] if section.note else []
        lines += [line for gap in section.gaps for line in (f"*{inert.markdown(gap, NOTE_LIMIT)}*", "")]
        for name in section.charts:
            lines += ["```text", bars[name], "```", ""] if name in bars else []
            lines += [f"![{section.title}](data:image/png;base64,{base64.b64encode(pngs[name]).decode()})", ""] if name in pngs else []  # fmt: skip
        lines += markdown_table(section.table) if section.table is not None else []
    return "\n".join(lines)


def png_charts(
    tables: dict[str, pd.DataFrame], frame: pd.DataFrame, as_of: pd.Timestamp | None = None
) -> dict[str, bytes]:
    """The PNG charts by file name, leaving out those that would be empty (chart_gaps)."""
    draw = {
        "conversion_by_tier.png": lambda: charts.conversion_chart(in_tier_order(tables["tier"])),
        "speed_to_lead.png": lambda: charts.speed_chart(frame["speed_to_lead_min"]),
        "by_week.png": lambda: charts.weekly_chart(tables["week"]),
        "reps.png": lambda: charts.reps_chart(rep_table(tables)[1]),
    }
    gaps = chart_gaps(tables, frame, as_of)
    return {name: charts.png_bytes(figure()) for name, figure in draw.items() if name not in gaps}


def safe_csv(table: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula (=, +, -, @) are prefixed with a quote."""
    text = table.select_dtypes(include=["object", "string"]).columns
    return table.assign(
        **{c: table[c].astype("string").str.replace(r"^([=+\-@\t\r])", r"'\1", regex=True) for c in text}
    )


def write_report(
    tables: dict[str, pd.DataFrame],
    frame: pd.DataFrame,
    out_dir: Path | str,
    as_of: pd.Timestamp | None = None,
    title: str = "Outcome report",
    extra: tuple[tuple[Section, pd.DataFrame | None], ...] = (),
    rates: pd.DataFrame | None = None,
) -> Path:
    """index.html with PNG charts and every table as CSV in out_dir; the same data gives the same bytes.
    extra: more sections after the standard ones, each with the frame its CSV (its first csv name) holds;
    rates: fx_rates' rows, for the VIP cut across currencies."""
    tables = named(tables)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, png in png_charts(tables, frame, as_of).items():
        (out / name).write_bytes(png)
    csvs = {csv_name(name): table for name, table in tables.items()}
    csvs |= {
        "thresholds.csv": against_thresholds(tables["tier"]),
        "rule_report.csv": rule_report(frame),
        "nurture_turned_hot.csv": nurture_turned_hot(frame),
    }
    csvs |= {section.csv[0]: table for section, table in extra if table is not None and section.csv}
    for name, table in csvs.items():
        safe_csv(table).to_csv(out / name, index=False, lineterminator="\n")
    parts = [*sections(tables, frame, as_of, rates), *(section for section, _ in extra)]
    page = TEMPLATE.render(title=title, heading=heading(frame), sections=parts)
    (out / "index.html").write_text(page, encoding="utf-8")
    return out / "index.html"


PAGE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
PAGE.filters["inert"] = inert.html  # table cells carry lead text (companies, ids): defanged and cut as well
TEMPLATE = PAGE.get_template("report.html.j2")
