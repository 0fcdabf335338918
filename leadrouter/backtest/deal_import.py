"""A deals export read, cleaned and linked to its leads: won, lost or open by the map's stage lists and won/closed
columns, amounts in units, dates read, and every doubtful value kept with an issue and its fix (never dropped);
a deal naming no usable lead is rejected with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from leadrouter.backtest import cleaning as clean
from leadrouter.backtest.column_map import Dates, DealColumns, ExportMap, require_columns
from leadrouter.backtest.files import Export
from leadrouter.config import ConfigError
from leadrouter.dedupe import normalize_email
from leadrouter.outcomes.deals import deal_states, unknown_stages
from leadrouter.validate.suite import excerpt

NO_LEAD_FIX = "none needed if the lead is not in the export: else check the deal's link column"
DEAL_ISSUES = {
    "unknown_stage": "kept as an opportunity without an outcome: add the stage to deals.stages (won, lost or open)",
    "no_outcome": "kept as an opportunity without an outcome: fill its stage, or map a closed column (a deal "
    "not won may be lost or still open)",
    "bad_flag": "read as not given: write yes or no (TRUE/FALSE, 1/0)",
    "bad_amount": "kept without an amount: make it a number",
    "bad_date": "read as no date: write it in one of the map's dates.formats",
    "undated": "kept, but days to opportunity and the 90-day figures leave it out: export created_at or close_date",
}
DEAL_ISSUE_COLUMNS = ["row", "deal_id", "lead_id", "issue", "field", "value", "fix"]


def clean_deals(
    cells: dict[str, pd.Series], spec: DealColumns, dates: Dates, rows: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per deal row (cells: trimmed text per deal field, <NA> for blank or unmapped; rows: its CSV row number):
    deal_id, amount (times the map's scale), is_won, is_closed, state, close_date, first_seen_at, dated; and
    one issue per doubtful value (DEAL_ISSUE_COLUMNS but lead_id), indexed like the cells."""
    index = cells["stage"].index
    flags = {name: clean.yes_no(cells[name]) if getattr(spec, name) else None for name in ("won", "closed")}
    states = deal_states(cells["stage"], spec.stages, flags["won"], flags["closed"])
    amount = clean.numbers(cells["amount"])[0].astype("float64") * spec.amount_scale
    close = clean.parse_dates(cells["close_date"], dates.formats, dates.timezone)[0]
    opened = clean.parse_dates(cells["created_at"], dates.formats, dates.timezone)[0]
    out = pd.DataFrame(
        {
            "deal_id": cells["deal_id"].fillna("row " + rows.astype(str)),
            "amount": amount,
            "is_won": states["is_won"],
            "is_closed": states["is_closed"],
            "state": states["state"],
            "close_date": close,
            "first_seen_at": opened,
            "dated": close.notna() | opened.notna(),
        }
    )
    stage_given = cells["stage"].notna()
    found = [
        ("unknown_stage", "stage", states["state"].isna() & stage_given),
        ("no_outcome", "stage", states["state"].isna() & ~stage_given),
        *[
            ("bad_flag", name, flag.isna() & cells[name].notna())
            for name, flag in flags.items()
            if flag is not None
        ],
        ("bad_amount", "amount", amount.isna() & cells["amount"].notna()),
        ("bad_date", "close_date", close.isna() & cells["close_date"].notna()),
        ("bad_date", "created_at", opened.isna() & cells["created_at"].notna()),
        ("undated", "close_date", ~out["dated"]),
    ]
    parts = [
        pd.DataFrame(
            {
                "row": rows[hit].to_numpy(),
                "deal_id": out.loc[hit, "deal_id"].to_numpy(),
                "issue": issue,
                "field": name,
                "value": cells[name][hit].fillna("").map(excerpt).to_numpy(),
                "fix": DEAL_ISSUES[issue],
            },
            index=index[hit.to_numpy()],
        )
        for issue, name, hit in found
        if hit.any()
    ]
    empty = pd.DataFrame(columns=[c for c in DEAL_ISSUE_COLUMNS if c != "lead_id"])
    return out, pd.concat(parts) if parts else empty


@dataclass
class DealImport:
    """deals: one row per lead with a deal, in the store's outcomes shape (lead_id, deal_id, is_closed, is_won,
    amount, close_date, first_seen_at) plus state (won | lost | open | <NA>: nothing said) and dated; rejected:
    deal rows that name no usable lead; issues: one row per kept deal row's doubtful value (DEAL_ISSUE_COLUMNS);
    unknown_stages: each stage value that fits no list, with its deal count."""

    rows: int
    deals: pd.DataFrame
    rejected: pd.DataFrame
    extra: int  # further deals of a lead that has one already (the earliest is its outcome)
    issues: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DEAL_ISSUE_COLUMNS))
    unknown_stages: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        """Counts for the run's summary: linked deals by outcome, and deal rows by issue."""
        states = self.deals["state"].fillna("unknown").value_counts()
        issues = self.issues["issue"].value_counts().sort_index()
        return {
            "rows": self.rows,
            "linked": len(self.deals),
            "rejected": len(self.rejected),
            "extra": self.extra,
            "by_outcome": {s: int(states.get(s, 0)) for s in ("won", "lost", "open", "unknown")},
            "issues": {str(k): int(v) for k, v in issues.items()},
            "unknown_stages": self.unknown_stages,
        }


def import_deals(path: Path, export_map: ExportMap, map_path: Path, leads: pd.DataFrame) -> DealImport:
    """Read and clean the deals, link each to its lead (by id, else by email) among the usable leads."""
    raw = Export(path).read()
    spec = export_map.deals
    if spec is None:
        raise ConfigError(map_path, None, "deals", "the map has no deals section: add one to read deals")
    require_columns(list(raw.columns), spec, "deals", export_map, map_path, path)
    cells = {
        name: clean.trim_and_blank(raw[header], export_map.placeholders)[0]
        if header
        else pd.Series(pd.NA, index=raw.index, dtype="string")
        for name, header in spec.columns().items()
    }
    lead_id = cells["lead_id"]
    if spec.email:  # a deal without a lead id finds its lead by email
        by_email = leads.assign(key=normalize_email(leads["email"])).drop_duplicates("key").set_index("key")
        lead_id = lead_id.fillna(normalize_email(cells["email"]).map(by_email["lead_id"]))
    known = lead_id.isin(leads["lead_id"]).fillna(False).astype(bool)
    out, issues = clean_deals(cells, spec, export_map.dates, raw["row"])
    out.insert(0, "lead_id", lead_id)
    linked_issue = known.loc[issues.index].to_numpy()  # a deal naming no lead is rejected, not flagged
    issues = issues[linked_issue].assign(lead_id=lead_id.loc[issues.index[linked_issue]].to_numpy())
    rejected = pd.DataFrame(
        {
            "row": raw.loc[~known, "row"].to_numpy(),
            "lead_id": lead_id[~known].to_numpy(),
            "reason": "no_lead",
            "field": "lead_id" if spec.lead_id else "email",
            "value": raw.loc[~known, spec.lead_id or spec.email].map(excerpt).to_numpy(),
            "fix": NO_LEAD_FIX,
        }
    )
    linked = out[known].sort_values(["lead_id", "first_seen_at", "close_date"], kind="stable")
    first = linked.drop_duplicates("lead_id")
    unknown = unknown_stages(cells["stage"][known], out.loc[known, "state"])
    return DealImport(
        len(raw),
        first.reset_index(drop=True),
        rejected,
        len(linked) - len(first),
        issues[DEAL_ISSUE_COLUMNS].sort_values("row", kind="stable").reset_index(drop=True),
        unknown,
    )
