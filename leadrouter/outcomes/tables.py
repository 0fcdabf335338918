"""The analyst tables: the per-lead outcome frame (leadrouter.outcomes.join) grouped by tier, rule, decider kind,
rep, source and week, each figure beside the seed's operating threshold; docs/outcome-tables.md defines them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from leadrouter import inert
from leadrouter.fields import CustomField, FieldType, LeadFields, read_values
from leadrouter.outcomes.hindsight import vip_rule
from leadrouter.outcomes.money import summable
from leadrouter.outcomes.thresholds import (
    JUDGED_COLUMNS,
    SPEED_LABEL,
    THRESHOLDS,
    Threshold,
    configured_minutes,
    judge,
)

NONE_LABEL = "(none)"  # a dimension's missing value in the tables (e.g. the rule of a model decision)
# a figure against its threshold, as words: they render in every font, where emoji can show as empty boxes
MARKS = {True: "pass", False: "FAIL"}

DIMENSIONS = ("tier", "rule", "decided_kind", "owner_id", "source", "week")
METRIC_COLUMNS = [
    "leads", "accepted", "meetings", "opportunities", "won", "win_rate", "pipeline", "revenue",
    "speed_median_min", "speed_p90_min", "breach_rate", "wrong_assignment_rate", "reassignment_rate",
    "manual_triage_rate", "acceptance_rate", "unconverted_deals",
]  # fmt: skip


def analyst_tables(
    frame: pd.DataFrame, by: Sequence[str] = DIMENSIONS, rates: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Per dimension, one row per value (missing values as "(none)"): the dimension column then METRIC_COLUMNS
    (rates: fx_rates' rows, see metrics_by)."""
    frame = in_one_currency(frame, rates)  # once, not per dimension
    return {dimension: metrics_by(frame, dimension) for dimension in by}


def in_one_currency(frame: pd.DataFrame, rates: pd.DataFrame | None = None) -> pd.DataFrame:
    """frame with pipeline and revenue that can be summed, and unconverted_deal per lead
    (leadrouter.outcomes.money.summable): unchanged amounts when every deal is in one currency, else amounts in
    the base currency of rates (fx_rates' rows), a deal no rate converts counting 0 and flagged. A frame with
    no currency column (an export's) is in one currency; one that has unconverted_deal already is returned as
    it is."""
    if "unconverted_deal" in frame:
        return frame
    if "currency" not in frame:
        return frame.assign(unconverted_deal=False)
    pipeline, left_out = summable(
        frame["pipeline"], frame["currency"], frame["amount_date"], frame["opportunity"], rates
    )
    revenue = np.where(frame["won"].astype(bool).to_numpy(), pipeline, 0.0)
    return frame.assign(pipeline=pipeline, revenue=revenue, unconverted_deal=left_out)


def metrics_by(frame: pd.DataFrame, dimension: str, rates: pd.DataFrame | None = None) -> pd.DataFrame:
    """The METRIC_COLUMNS of frame's leads grouped by one column (or all of them, for dimension "all"). Amounts
    in several currencies are never summed blindly: pipeline and revenue are in the base currency of rates
    (fx_rates' rows), and unconverted_deals counts the deals left out of them (in_one_currency)."""
    frame = in_one_currency(frame, rates)
    if dimension == "all":
        values = pd.Series("all", index=frame.index, dtype="string")
    elif dimension == "week":
        values = frame["week"]
    else:
        values = frame[dimension].astype("string").fillna(NONE_LABEL)
    flags = pd.DataFrame(
        {
            "leads": 1,
            "accepted": frame["accepted"],
            "meetings": frame["meeting"],
            "opportunities": frame["opportunity"],
            "won": frame["won"],
            "closed_deals": frame["opportunity"] & frame["closed"],
            "pipeline": frame["pipeline"],
            "revenue": frame["revenue"],
            "breached": frame["sla_breached"],
            "wrong": frame["wrong_assignment"],
            "reassigned": frame["reassigned"],
            "triaged": frame["manual_triage"],
            "unpriced": frame["unconverted_deal"],
        },
        index=frame.index,
    )
    # the values sorted once; every sum and quantile then groups by small integers
    groups, labels = pd.factorize(values, sort=True)
    sums = flags.groupby(groups).sum()
    speed = frame["speed_to_lead_min"].groupby(groups)
    leads = sums["leads"]
    table = pd.DataFrame(
        {
            "leads": leads.astype("int64"),
            "accepted": sums["accepted"].astype("int64"),
            "meetings": sums["meetings"].astype("int64"),
            "opportunities": sums["opportunities"].astype("int64"),
            "won": sums["won"].astype("int64"),
            "win_rate": sums["won"] / sums["closed_deals"].replace(0, np.nan),
            "pipeline": sums["pipeline"].astype("float64"),
            "revenue": sums["revenue"].astype("float64"),
            "speed_median_min": speed.median().reindex(sums.index),
            "speed_p90_min": speed.quantile(0.9).reindex(sums.index),
            "breach_rate": sums["breached"] / leads,
            "wrong_assignment_rate": sums["wrong"] / leads,
            "reassignment_rate": sums["reassigned"] / leads,
            "manual_triage_rate": sums["triaged"] / leads,
            "acceptance_rate": sums["accepted"] / leads,
            "unconverted_deals": sums["unpriced"].astype("int64"),
        }
    )
    table.insert(0, dimension, labels)
    return table.reset_index(drop=True)


def with_custom_fields(frame: pd.DataFrame, stored: pd.DataFrame, fields: LeadFields) -> pd.DataFrame:
    """The outcome frame plus each custom field as it was stored on the lead's decision (stored: lead_id and
    custom_fields, as store.decisions.decided_custom_fields reads them), typed."""
    values = pd.DataFrame(
        [v or {} for v in stored["custom_fields"]], index=stored["lead_id"], columns=fields.names
    )
    joined = values.reindex(frame["lead_id"]).set_axis(frame.index)
    return frame.assign(**{f.name: read_values(joined[f.name], f) for f in fields.custom})


def metrics_by_field(frame: pd.DataFrame, field: CustomField) -> pd.DataFrame:
    """METRIC_COLUMNS grouped by a custom field: a number by its quartile range, a date by month, text, a
    category or a flag by value (missing: "(none)")."""
    values = read_values(frame[field.name], field)
    if field.type == FieldType.NUMBER and values.notna().any():
        values = pd.qcut(values.astype("float64"), 4, duplicates="drop").astype("string")
    elif field.type == FieldType.DATE:
        values = values.dt.strftime("%Y-%m")
    return metrics_by(frame.assign(**{field.name: values.astype("string")}), field.name)


def against_thresholds(table: pd.DataFrame, minutes: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Each thresholded metric of an analyst table beside the threshold that judges its group
    (thresholds.thresholds_for; minutes: tier -> response SLA, the seed's when None): the dimension column, then
    metric, figure, op, threshold, target (the seed's words) and passes (<NA>: nothing to judge)."""
    dimension = table.columns[0]
    long = table.melt(
        id_vars=[dimension], value_vars=list(THRESHOLDS), var_name="metric", value_name="figure"
    )
    long["figure"] = long["figure"].astype("float64")
    judged = judge(long.assign(dimension=dimension, value=long[dimension].map(str)), _minutes(minutes))
    return judged.loc[judged["op"].notna(), [dimension, "metric", "figure", *JUDGED_COLUMNS]].reset_index(
        drop=True
    )


def _minutes(minutes: Mapping[str, float] | None) -> Mapping[str, float]:
    return configured_minutes() if minutes is None else minutes


LONG_COLUMNS = ["dimension", "value", "metric", "figure", "op", "threshold", "target", "passes"]


def long_metrics(
    tables: Mapping[str, pd.DataFrame],
    headline: Mapping[str, float | None],
    minutes: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Every table (its first column the group) as one row per (dimension: the table's name, value, metric),
    thresholds beside the figures they judge (thresholds.thresholds_for; minutes: tier -> response SLA, the seed's
    when None); the headline figures (VIP precision and recall, Nurture turned hot) under dimension and value
    "all"."""
    parts = []
    for dimension, table in tables.items():
        group = table.columns[0]
        long = table.melt(id_vars=[group], value_vars=METRIC_COLUMNS, var_name="metric", value_name="figure")
        values = long[group]
        long["value"] = values.map(str) if group == "week" else values.astype("string")
        parts.append(long.drop(columns=group).assign(dimension=dimension))
    parts.append(
        pd.DataFrame(
            {"dimension": "all", "value": "all", "metric": list(headline), "figure": list(headline.values())}
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out["figure"] = pd.to_numeric(out["figure"], errors="coerce").astype("float64")
    return judge(out, _minutes(minutes))[LONG_COLUMNS]


FIGURE_FORMATS = {
    "win_rate": "{:.1%}", "pipeline": "{:,.0f}", "revenue": "{:,.0f}", "speed_median_min": "{:.1f}",
    "speed_p90_min": "{:.1f}", "breach_rate": "{:.1%}", "wrong_assignment_rate": "{:.1%}",
    "reassignment_rate": "{:.1%}", "manual_triage_rate": "{:.1%}", "acceptance_rate": "{:.1%}",
}  # fmt: skip


def thresholds_markdown(table: pd.DataFrame, minutes: Mapping[str, float] | None = None) -> str:
    """An analyst table as markdown, each thresholded figure marked against the threshold of its group (named in
    the header; speed against each tier's own SLA)."""
    dimension = table.columns[0]
    headers = [dimension, *(_header(THRESHOLDS[m]) if m in THRESHOLDS else m for m in METRIC_COLUMNS)]
    lines = ["| " + " | ".join(headers) + " |", "|---" + "|---:" * len(METRIC_COLUMNS) + "|"]
    judged = against_thresholds(table, minutes)
    marks = judged.set_index([judged[dimension].map(str), "metric"])["passes"]
    for i in range(len(table)):  # one line per value of the dimension: a handful of rows, not leads
        value = table[dimension].iloc[i]
        cells = [inert.markdown(value)]
        for metric in METRIC_COLUMNS:
            figure = table[metric].iloc[i]
            text = "–" if pd.isna(figure) else FIGURE_FORMATS.get(metric, "{:,}").format(figure)
            mark = marks.get((str(value), metric), pd.NA)
            cells.append(text if pd.isna(mark) else f"{text} {MARKS[bool(mark)]}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _header(threshold: Threshold) -> str:
    if threshold.metric == "speed_median_min":
        return f"{threshold.metric} ({SPEED_LABEL})"
    return f"{threshold.metric} ({threshold.op} {threshold.limit:g})"


def tables_markdown(
    tables: Mapping[str, pd.DataFrame],
    headline: Mapping[str, float | None],
    minutes: Mapping[str, float] | None = None,
) -> str:
    """The outcome artifact: the tier table beside the thresholds, and the seed's two questions answered."""

    def share(value: float | None) -> str:
        return "–" if value is None else f"{value:.1%}"

    return "\n".join(
        [
            "# Outcomes by tier",
            "",
            thresholds_markdown(tables["tier"], minutes),
            "",
            f"**VIP precision** {share(headline['vip_precision'])}, **recall** {share(headline['vip_recall'])} "
            f"over {headline['vip_matured_leads']} leads past their 90 days (VIP in hindsight: {vip_rule()}).",
            "",
            f"**Nurture leads that came back hot** (an opportunity within 90 days): {headline['nurture_turned_hot']} "
            f"of {headline['nurture_leads']} ({share(headline['nurture_turned_hot_rate'])}).",
            "",
            "Speeds in minutes from the lead's creation to its first touch; rates over the group's leads. "
            "The full tables (rule, decider, rep, source, week) are in `outcome_metrics`.",
        ]
    )
