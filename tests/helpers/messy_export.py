"""A realistic messy CRM export (leads and deals CSVs under config/backtest-map.yaml's headers) and the
generator's own record of everything it broke, to check `leadrouter backtest`'s import against.

The clean part comes from the sandbox generator (its leads that pass validation, written canonically); a
share of rows is then messed up, one kind of mess per row, on disjoint rows. Deals follow the generator's
ground-truth tiers, so conversion is known independently of any rulebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from leadrouter.assign.roster import load_roster
from leadrouter.backtest.cleaning import SHORT_TOKEN
from leadrouter.backtest.column_map import load_export_map
from leadrouter.config import PROJECT_ROOT
from leadrouter.enrich.geo import country_code
from leadrouter.sandbox.accounts import generate_accounts, generate_contacts
from leadrouter.sandbox.leads import generate_leads
from leadrouter.schema import conform
from leadrouter.validate.suite import validate_leads

MAP = PROJECT_ROOT / "config" / "backtest-map.yaml"
CLEANED_KINDS = ["placeholder", "casing", "spelling", "country", "whitespace", "number", "date_format"]
# each rejected kind and the import's reason for it (invalid rows: validation's "invalid:<check>")
REJECTED_KINDS = {
    "duplicate_row": "duplicate_row",
    "duplicate_lead_id": "duplicate_lead_id",
    "missing_lead_id": "missing_lead_id",
    "bad_date": "bad_created_at",
    "invalid": "invalid",
}
# a blank date is a different error from an unreadable one: the bad_date rows with a blank cell are missing_date
REJECTED_REASONS = {**REJECTED_KINDS, "missing_date": "missing_created_at"}
PLACEHOLDER_TOKENS = ["Select", "N/A", "n/a", "-", "--", "none", "null", "?", "--None--", "TBD"]
PLACEHOLDER_FIELDS = ["title", "phone", "state", "city", "industry", "website"]
BLANK_DATES = ["", "N/A"]
BAD_DATES = [*BLANK_DATES, "yesterday", "31/02/2025 10:00 AM", "2025-13-45", "soon"]
COUNTRY_VARIANTS = {
    "US": ["usa", "U.S.", "u.s.a.", "united states", "USA "],
    "GB": ["U.K.", "uk", "Great Britain", "england"],
    "DE": ["Deutschland", "germany", "GERMANY"],
}
OPPORTUNITY_CHANCE = {"VIP": 0.55, "Standard": 0.3, "Nurture": 0.06, "Other": 0.01}
DEAL_SIZE = {"VIP": 70_000.0, "Standard": 20_000.0, "Nurture": 10_000.0, "Other": 8_000.0}
END = pd.Timestamp("2025-10-01", tz="UTC")


@dataclass
class MessyExport:
    leads_csv: Path
    deals_csv: Path
    truth: pd.DataFrame  # per CSV row: row, lead_id, kind, field, expected, created_at, label_tier
    deals: pd.DataFrame  # per lead with a deal: lead_id, amount, won, closed, opened_at
    orphan_deals: int  # deal rows whose lead is in no row of the export


def messy_export(
    folder: Path, leads: int = 10_000, messy: float = 0.3, seed: int = 11, days: int = 90
) -> MessyExport:
    rng = np.random.default_rng(seed)
    headers = load_export_map(MAP)
    world = generate_accounts(rng, 300)
    raw = generate_leads(rng, int(leads * 1.2) + 300, world, generate_contacts(rng, world, 1200),
                         END - pd.Timedelta(days=days), END)  # fmt: skip
    blocked = set(validate_leads(conform(raw)).quarantined["lead_id"])
    malformed = raw["label_kind"].eq("malformed") & raw["lead_id"].isin(blocked)
    base = raw[~raw["lead_id"].isin(blocked)]
    per_kind = round(messy * leads) // (len(CLEANED_KINDS) + len(REJECTED_KINDS))
    counts = dict.fromkeys([*CLEANED_KINDS, *REJECTED_KINDS], per_kind)
    counts["placeholder"] += round(messy * leads) - per_kind * len(counts)
    unique = leads - counts["duplicate_row"] - counts["duplicate_lead_id"]
    chosen = pd.concat([base.iloc[: unique - counts["invalid"]], raw[malformed].iloc[: counts["invalid"]]])
    if len(chosen) < unique:
        raise ValueError("the generator made too few valid leads: raise the margin")
    frame = _canonical(chosen.reset_index(drop=True), rng)
    truth = pd.DataFrame({"lead_id": frame["lead_id"], "kind": "clean", "field": pd.NA, "expected": None})
    truth["created_at"], truth["label_tier"] = frame.pop("_created"), chosen["label_tier"].to_numpy()
    truth.loc[len(base.iloc[: unique - counts["invalid"]]) :, "kind"] = "invalid"
    _mess_up(frame, truth, counts, rng)
    frame, truth = _with_copies(frame, truth, counts, rng)
    order = rng.permutation(len(frame))
    frame, truth = frame.iloc[order].reset_index(drop=True), truth.iloc[order].reset_index(drop=True)
    truth.insert(0, "row", np.arange(len(truth)) + 2)
    deals, deal_rows, orphans = _deals(truth, rng)
    folder.mkdir(parents=True, exist_ok=True)
    leads_csv, deals_csv = folder / "leads.csv", folder / "deals.csv"
    frame.rename(columns=headers.leads.model_dump()).to_csv(leads_csv, index=False)
    deal_rows.rename(columns=headers.deals.model_dump()).to_csv(deals_csv, index=False)
    return MessyExport(leads_csv, deals_csv, truth, deals, orphans)


def _canonical(leads: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The export as a tidy CRM writes it: text trimmed, emails in lower case, countries as ISO codes, dates in
    the report's first format, the historical owner by the lead's true tier."""
    text = lambda c: leads[c].astype("string").str.strip().fillna("")  # noqa: E731
    created = leads["created_at"].dt.floor("min")
    out = pd.DataFrame(
        {c: text(c) for c in ["lead_id", "first_name", "last_name", "phone", "title", "company"]}
    )
    out["email"] = text("email").str.lower()
    out["website"], out["state"], out["city"] = text("website"), text("state"), text("city")
    out["country"] = country_code(leads["country"]).fillna("")
    out["industry"], out["lead_source"], out["message"] = (
        text("industry"),
        text("lead_source"),
        text("message"),
    )
    out["employees"] = leads["employees"].astype("Int64").astype("string").fillna("")
    out["annual_revenue"] = leads["annual_revenue"].round().astype("Int64").astype("string").fillna("")
    out["created_at"] = created.dt.tz_convert("America/New_York").dt.strftime("%m/%d/%Y %I:%M %p")
    out["owner"] = _historical_owners(leads["label_tier"], rng)
    out["_created"] = created
    return out


def _historical_owners(tiers: pd.Series, rng: np.random.Generator) -> np.ndarray:
    roster = load_roster(PROJECT_ROOT / "config" / "roster.yaml")
    senior = [r.name for r in roster.reps if r.role == "senior_ae"]
    aes = [r.name for r in roster.reps if r.role == "ae"]
    queues = list(roster.queues.values())
    picks = {
        "VIP": np.array(senior)[rng.integers(len(senior), size=len(tiers))],
        "Standard": np.array(aes)[rng.integers(len(aes), size=len(tiers))],
        "Nurture": np.full(len(tiers), queues[0]),
    }
    owner = np.select([tiers.eq(t).to_numpy() for t in picks], list(picks.values()), queues[3])
    return np.where(rng.random(len(tiers)) < 0.03, "Former Rep", owner)  # someone who left: not on the roster


def _mess_up(frame: pd.DataFrame, truth: pd.DataFrame, counts: dict, rng: np.random.Generator) -> None:
    """One kind of mess per row, on disjoint clean rows; truth records the kind, the field and the value the
    import should arrive at."""
    free = np.zeros(len(truth), dtype=bool)
    free[truth["kind"].eq("clean").to_numpy()] = True
    order = rng.permutation(len(truth))  # rows are taken in a random order

    def take(kind: str, eligible: pd.Series | None = None) -> np.ndarray:
        ok = free if eligible is None else free & eligible.to_numpy(dtype=bool)
        rows = order[ok[order]][: counts[kind]]
        free[rows] = False
        truth.loc[rows, "kind"] = kind
        return rows

    at = take("country", frame["country"].ne(""))
    truth.loc[at, ["field", "expected"]] = ["country", None]
    truth.loc[at, "expected"] = frame.loc[at, "country"].to_numpy()
    frame.loc[at, "country"] = [_country_variant(c, rng) for c in frame.loc[at, "country"]]
    at = take("number", frame["annual_revenue"].ne(""))
    truth.loc[at, "field"], truth.loc[at, "expected"] = (
        "annual_revenue",
        frame.loc[at, "annual_revenue"].astype(float).to_numpy(),
    )
    frame.loc[at, "annual_revenue"] = [f"${float(v):,.0f}" for v in frame.loc[at, "annual_revenue"]]
    at = take("placeholder")
    fields = np.array(PLACEHOLDER_FIELDS)[rng.integers(len(PLACEHOLDER_FIELDS), size=len(at))]
    tokens = np.array(PLACEHOLDER_TOKENS)[rng.integers(len(PLACEHOLDER_TOKENS), size=len(at))]
    for f in PLACEHOLDER_FIELDS:
        frame.loc[at[fields == f], f] = tokens[fields == f]
    truth.loc[at, "field"] = fields
    # names whose proper form is Title Case (not McKenzie): a NAME IN CAPITALS can be brought back
    titled = frame["first_name"].str.contains(r"[a-z]{2}", regex=True) & frame["first_name"].eq(
        frame["first_name"].str.title()
    )
    at = take("casing", titled)
    frame.loc[at, "email"] = frame.loc[at, "email"].str.upper()
    truth.loc[at, "expected"] = frame.loc[at, "first_name"].to_numpy()
    frame.loc[at, "first_name"] = frame.loc[at, "first_name"].str.upper()
    truth.loc[at, "field"] = "first_name"
    at = take("spelling")
    industries = list(load_export_map(MAP).known_values("industry"))
    target = frame.loc[at, "industry"].where(
        frame.loc[at, "industry"].ne(""), rng.choice(industries, len(at))
    )
    truth.loc[at, "field"], truth.loc[at, "expected"] = "industry", target.to_numpy()
    frame.loc[at, "industry"] = [_misspelt(t, rng) for t in target]
    at = take("whitespace")
    truth.loc[at, "field"], truth.loc[at, "expected"] = "company", frame.loc[at, "company"].to_numpy()
    frame.loc[at, "company"] = "  " + frame.loc[at, "company"] + "   "
    at = take("date_format")
    truth.loc[at, "field"] = "created_at"
    frame.loc[at, "created_at"] = [_other_format(ts, rng) for ts in truth.loc[at, "created_at"]]
    at = take("missing_lead_id")
    frame.loc[at, "lead_id"] = np.array(["", "N/A", "-", "   "])[rng.integers(4, size=len(at))]
    at = take("bad_date")
    frame.loc[at, "created_at"] = np.array(BAD_DATES)[rng.integers(len(BAD_DATES), size=len(at))]
    truth.loc[at[frame.loc[at, "created_at"].isin(BLANK_DATES).to_numpy()], "kind"] = "missing_date"
    truth.attrs["free"] = order[free[order]]  # clean rows left: the copies are made of them


def _country_variant(code: str, rng: np.random.Generator) -> str:
    import pycountry

    variants = COUNTRY_VARIANTS.get(code) or [pycountry.countries.get(alpha_2=code).name.lower()]
    return str(variants[rng.integers(len(variants))])


def _misspelt(industry: str, rng: np.random.Generator) -> str:
    """A way people mistype an industry: case, a dropped letter (leaving more than a short token), or a
    value-map alias."""
    how = rng.integers(3)
    if how == 0:
        return industry.lower() if rng.random() < 0.5 else industry.upper()
    if how == 1 and len(industry) > SHORT_TOKEN + 1:
        cut = int(rng.integers(1, len(industry) - 1))
        return industry[:cut] + industry[cut + 1 :]
    return {"Financial Services": "Fin. Services", "Software": "SaaS", "Telecommunications": "Telco"}.get(
        industry, industry.upper()
    )


def _other_format(created: pd.Timestamp, rng: np.random.Generator) -> str:
    local = created.tz_convert("America/New_York").tz_localize(None)
    how = rng.integers(4)
    if how == 0:
        return local.strftime("%Y-%m-%d %H:%M:%S")
    if how == 1:
        return local.strftime("%d.%m.%Y %H:%M")
    if how == 2:
        return f"{(local - pd.Timestamp('1899-12-30')) / pd.Timedelta(days=1):.8f}"
    return created.strftime("%Y-%m-%dT%H:%M:%SZ")


def _with_copies(
    frame: pd.DataFrame, truth: pd.DataFrame, counts: dict, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exact copies of clean rows, and rows that repeat a clean row's lead id with other content."""
    free = truth.attrs.pop("free")
    exact = np.array(free[: counts["duplicate_row"]], dtype=np.int64)
    edited = np.array(
        free[counts["duplicate_row"] : counts["duplicate_row"] + counts["duplicate_lead_id"]], dtype=np.int64
    )
    note = (frame.loc[edited, "message"] + " ").str.lstrip() + "Following up on my last note."
    again = frame.loc[edited].assign(message=note)
    copies = pd.concat([frame.loc[exact], again], ignore_index=True)
    kinds = ["duplicate_row"] * len(exact) + ["duplicate_lead_id"] * len(edited)
    copy_truth = truth.loc[np.concatenate([exact, edited])].assign(kind=kinds, field=pd.NA, expected=None)
    return pd.concat([frame, copies], ignore_index=True), pd.concat([truth, copy_truth], ignore_index=True)


def _deals(truth: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Deals for the usable leads by their true tier, plus a few whose lead is not in the export."""
    usable = ~truth["kind"].isin(
        ["missing_lead_id", "bad_date", "missing_date", "invalid", "duplicate_row", "duplicate_lead_id"]
    )
    leads = truth[usable]
    tier = leads["label_tier"].astype(str)
    got = rng.random(len(leads)) < tier.map(OPPORTUNITY_CHANCE).to_numpy()
    leads, tier = leads[got], tier[got]
    amount = np.round(tier.map(DEAL_SIZE).to_numpy() * np.exp(rng.normal(0, 0.5, len(leads))), -2)
    opened = leads["created_at"] + pd.to_timedelta(rng.uniform(1, 120, len(leads)), unit="D")
    closed = rng.random(len(leads)) < 0.7
    won = closed & (rng.random(len(leads)) < 0.4)
    orphans = max(len(leads) // 50, 1)
    ids = np.concatenate(
        [leads["lead_id"].to_numpy(dtype=object), [f"00QORPHAN{i:06d}" for i in range(orphans)]]
    )
    amount = np.concatenate([amount, np.full(orphans, 5000.0)])
    opened = pd.concat([opened, pd.Series([END] * orphans)], ignore_index=True).dt.floor("min")
    closed, won = (
        np.concatenate([closed, np.zeros(orphans, bool)]),
        np.concatenate([won, np.zeros(orphans, bool)]),
    )
    stage = np.where(won, "Closed Won", np.where(closed, "Closed Lost", "Proposal/Price Quote"))
    fancy = rng.random(len(ids)) < 0.2  # amounts as a report formats currency
    rows = pd.DataFrame(
        {
            "deal_id": [f"006{i:012d}" for i in range(len(ids))],
            "lead_id": ids,
            "amount": np.where(fancy, [f"${a:,.2f}" for a in amount], [f"{a:.0f}" for a in amount]),
            "stage": stage,
            "won": np.where(won, "TRUE", "FALSE"),
            "close_date": np.where(
                closed,
                (opened + pd.Timedelta(days=20)).dt.tz_convert("America/New_York").dt.strftime("%m/%d/%Y"),
                "",
            ),
            "created_at": opened.dt.tz_convert("America/New_York").dt.strftime("%m/%d/%Y %I:%M %p"),
        }
    )
    truth_deals = pd.DataFrame(
        {"lead_id": ids, "amount": amount, "won": won, "closed": closed, "opened_at": opened.to_numpy()}
    ).iloc[: len(ids) - orphans]
    return truth_deals, rows.iloc[rng.permutation(len(rows))], orphans
