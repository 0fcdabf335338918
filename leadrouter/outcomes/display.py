"""The outcome report's tables in display strings: figures formatted (amounts, minutes, rates), the row of
missing values named, tiers in business order, thresholds marked pass or fail. Shared by the markdown
artifact, the HTML page and the backtest's page."""

from __future__ import annotations

import pandas as pd

from leadrouter.outcomes.join import NONE_LABEL, THRESHOLDS, against_thresholds, metrics_by
from leadrouter.outcomes.notes import EMPTY, conversion, pct
from leadrouter.outcomes.tables import MARKS
from leadrouter.outcomes.thresholds import SPEED_LABEL
from leadrouter.schema import TIERS

HOT_ROWS = 20  # Nurture leads that turned hot listed in the artifact (the CSV has them all)
RULE_ROWS = 30
UNTIERED = "quarantined / in review"  # a lead counted with no tier waits in review (or was quarantined)
# a table's row for leads with no value, by the table's column: no row without a name
MISSING_NAMES = {
    "tier": UNTIERED,
    "owner_id": "no owner yet (in review)",
    "rule": "no rule (model or review)",
    "lead_source": "no lead source",
}


def amount(value: float) -> str:
    return EMPTY if pd.isna(value) else f"{value:,.0f}"


def minutes(value: float) -> str:
    return EMPTY if pd.isna(value) else f"{value:.1f} min"


def named(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The analyst tables with the row of missing values ("(none)") named for what it holds."""
    out = {}
    for name, table in tables.items():
        first = table.columns[0]
        if first != "week":  # weeks are dates, never missing
            label = MISSING_NAMES.get(first, "not recorded")
            table = table.assign(**{first: table[first].astype("string").replace(NONE_LABEL, label)})
        out[name] = table
    return out


def in_tier_order(table: pd.DataFrame) -> pd.DataFrame:
    """A table by tier in business order (VIP first), anything else (quarantined / in review) after, by name."""
    rank = table["tier"].map(lambda t: TIERS.index(t) if t in TIERS else len(TIERS))
    return (
        table.assign(_rank=rank).sort_values(["_rank", "tier"]).drop(columns="_rank").reset_index(drop=True)
    )


def tier_threshold_table(
    tables: dict[str, pd.DataFrame], frame: pd.DataFrame, rates: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per tier and one for all leads (its money through rates, fx_rates' rows, as the tier rows'):
    volume and conversion, then every thresholded metric marked pass or fail (the column header names the
    threshold)."""
    total = metrics_by(frame, "all", rates).rename(columns={"all": "tier"})
    table = pd.concat([in_tier_order(tables["tier"]), total], ignore_index=True)
    shown = pd.DataFrame(
        {
            "tier": table["tier"].astype(str),
            "leads": table["leads"].map("{:,}".format),
            "opportunities": table["opportunities"].map("{:,}".format),
            "conversion": conversion(table["opportunities"], table["leads"]).map(pct),
            "win rate": table["win_rate"].map(pct),
            "pipeline": table["pipeline"].map(amount),
        }
    )
    # each row judged by its own tier's thresholds: speed against its SLA, none for a tier without one
    judged = against_thresholds(table.assign(tier=table["tier"].astype(str)))
    for metric, threshold in THRESHOLDS.items():
        figure = table[metric].astype("float64")
        text = figure.map(minutes if metric.endswith("_min") else pct)
        passes = judged[judged["metric"] == metric].set_index("tier")["passes"].reindex(shown["tier"])
        mark = passes.map(lambda ok: MARKS[bool(ok)] if pd.notna(ok) else "").to_numpy()
        header = SPEED_LABEL if metric == "speed_median_min" else threshold.label
        shown[header] = (text.astype("string") + " " + mark.astype(str)).str.strip()
    return shown


def rule_table(report: pd.DataFrame) -> pd.DataFrame:
    shown = report.head(RULE_ROWS)
    return pd.DataFrame(
        {
            "rule": shown["rule"].astype(str),
            "tier": shown["tier"].astype(str),
            "leads": shown["leads"].map("{:,}".format),
            "conversion (95 % interval)": [
                f"{pct(c)} ({pct(lo)}–{pct(hi)})"
                for c, lo, hi in zip(
                    shown["conversion"], shown["conversion_low"], shown["conversion_high"], strict=True
                )
            ],
            "tier average": shown["tier_conversion"].map(pct),
            "× tier": shown["ratio"].map(lambda r: EMPTY if pd.isna(r) else f"{r:.1f}×"),
            "p (adjusted)": shown["p_value"].map(lambda p: EMPTY if pd.isna(p) else f"{p:.2g}"),
            "suggested tier": shown["suggested_tier"].fillna("").astype(str),
        }
    )


def hot_table(hot: pd.DataFrame) -> pd.DataFrame:
    shown = hot.head(HOT_ROWS)
    columns = {"lead": shown["lead_id"].astype(str)}
    if "company" in shown:  # present when the caller joined the leads' companies
        columns["company"] = shown["company"].fillna("").astype(str)
    columns |= {
        "owner": shown["owner_id"].fillna("").astype(str),
        "decided by": shown["decided_by"].fillna("").astype(str),
        "days to opportunity": shown["days_to_opportunity"].map(lambda d: f"{d:.0f}"),
        "pipeline": shown["pipeline"].map(amount),
    }
    if "currency" in shown:  # each deal's own currency: bare amounts in several currencies would mislead
        columns["currency"] = shown["currency"].fillna("").astype(str)
    return pd.DataFrame(columns)


def metric_table(table: pd.DataFrame) -> pd.DataFrame:
    """An analyst table (reps, sources, weeks, decider kinds) in display strings."""
    rates = [c for c in table.columns if c.endswith("_rate")]
    shown = table.astype({table.columns[0]: str}).copy()
    for column in table.columns[1:]:
        if column in rates:
            shown[column] = table[column].map(pct)
        elif column.endswith("_min"):
            shown[column] = table[column].map(minutes)
        elif column in ("pipeline", "revenue"):
            shown[column] = table[column].map(amount)
        else:
            shown[column] = table[column].map("{:,}".format)
    return shown.rename(columns=lambda c: c.replace("_", " "))
