"""Backtest rulebooks on history: replay an imported CRM export through the router's stages (enrichment,
rules then the local model, assignment with the roster) writing nothing anywhere, and set the predicted tiers
and owners beside what happened: the deals the leads became and the owners they had.

No CRM, no store, no network: the export is the only input (no account matching, no CRM duplicate lookup;
repeats within the export follow their first copy). Leads are assigned as of their arrival hour
(leadrouter.backtest.arrival).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from leadrouter.assign.roster import Roster, load_roster
from leadrouter.backtest.arrival import ASSIGN_INPUTS, assign_at_arrival
from leadrouter.backtest.column_map import load_export_map
from leadrouter.backtest.deal_import import DealImport, import_deals
from leadrouter.backtest.files import Progress
from leadrouter.backtest.importer import ImportResult, import_leads
from leadrouter.backtest.outcome_frame import deal_states, outcome_frame, replay_tables, resolve_owners
from leadrouter.classify import classify_leads
from leadrouter.classify.model import ModelChain
from leadrouter.classify.rules import Rulebook, load_rulebook
from leadrouter.config import Settings
from leadrouter.dedupe import mark_duplicates
from leadrouter.enrich import enrich_leads
from leadrouter.enrich.territory import Territories, load_territories
from leadrouter.fields import NO_CUSTOM_FIELDS, LeadFields
from leadrouter.memory import release_memory
from leadrouter.outcomes.hindsight import by_tier, hindsight
from leadrouter.outcomes.tables import metrics_by_field
from leadrouter.router import check_rule_pools, open_chain

REVIEW = "(review)"  # the tier of a lead no rule or model decided: it waits for a person
TIER_COLUMNS = ["tier", "leads", "opportunities", "won", "conversion", "win_rate", "pipeline", "revenue",
                "undated_deals"]  # fmt: skip
UNDATED = "(undated deal)"  # the hindsight of a lead whose deal has no date: within 90 days or not is unknown
REVIEW_COLUMNS = ["lead_id", "row", "lead_source", "suggested_tier", "confidence", "review_reason",
                  "historical_owner", "opportunity", "won", "pipeline", "hindsight"]  # fmt: skip
# what the replay adds to the outcome frame, from the prepared and classified leads
LEAD_EXTRAS = {"lead_source": "string", "suggested_tier": "string", "confidence": "Float64",
               "review_reason": "string"}  # fmt: skip
# what the replay reads of a classified lead: the outcome frame's inputs, LEAD_EXTRAS and assignment's inputs
CLASSIFIED_KEPT = list(
    dict.fromkeys(["lead_id", "created_at", "tier", "decided_by", *LEAD_EXTRAS, *ASSIGN_INPUTS])
)
ROUTED_KEPT = ["lead_id", "created_at", "tier", "decided_by", "owner_id"]  # what outcome_frame reads
DEDUPE_INPUTS = ["lead_id", "created_at", "email", "phone", "phone_e164"]  # what leadrouter.dedupe reads
CLASSIFY_ROWS = (
    100_000  # leads classified at once: classification is per lead, and each chunk copies its rows
)


@dataclass
class Replay:
    """One rulebook's replay. leads: the outcome frame (leadrouter.outcomes.join.LEAD_OUTCOME_COLUMNS) plus row,
    historical_owner (as exported), historical_owner_id (on the roster, else <NA>), hindsight (<NA>: the deal
    has no date) and hindsight_reason (leadrouter.outcomes.hindsight), deal_state (won | lost | open, <NA>: not said), LEAD_EXTRAS (the model's suggestion and
    confidence for a lead left for review), and the custom fields (config/fields.yaml); tables: by each
    dimension and each custom field."""

    name: str
    version: str
    leads: pd.DataFrame
    tables: dict[str, pd.DataFrame]  # analyst_tables of the replay, then one per custom field

    @property
    def tiers(self) -> pd.DataFrame:
        """Per predicted tier: leads, opportunities, won, conversion (opportunities / leads), win rate, money."""
        table = self.tables["tier"].replace({"tier": {"(none)": REVIEW}})
        undated = self.leads["opportunity"] & self.leads["days_to_opportunity"].isna()
        per_tier = undated.groupby(self.leads["tier"].fillna(REVIEW)).sum()
        table = table.assign(
            conversion=table["opportunities"] / table["leads"],
            undated_deals=table["tier"].map(per_tier).fillna(0).astype("int64"),
        )
        return table[TIER_COLUMNS]

    @property
    def confusion(self) -> pd.DataFrame:
        """Predicted tier (rows) against the tier in hindsight (columns): lead counts."""
        predicted = self.leads["tier"].fillna(REVIEW).rename("predicted")
        return pd.crosstab(predicted, self.leads["hindsight"].fillna(UNDATED).rename("hindsight"))

    @property
    def by_hindsight(self) -> pd.DataFrame:
        """Leads by routed tier and hindsight tier (leadrouter.outcomes.hindsight), with each routed tier's
        conversion: opportunities within 90 days over leads."""
        return by_tier(self.leads, unrouted=REVIEW)

    @property
    def review(self) -> pd.DataFrame:
        """Leads left for review (REVIEW_COLUMNS): the model's suggested tier and confidence, and the outcome."""
        frame = self.leads[self.leads["tier"].isna()]
        return frame[REVIEW_COLUMNS].sort_values("row").reset_index(drop=True)

    @property
    def owners(self) -> pd.DataFrame:
        """Per predicted tier: leads with a historical owner on the roster, and how many would change owner
        (leads left for review have no owner until a person decides: they are not in it)."""
        frame = self.leads[self.leads["tier"].notna()]
        known = frame["historical_owner_id"].notna()
        changed = known & frame["owner_id"].ne(frame["historical_owner_id"]).fillna(True)
        table = pd.DataFrame({"tier": frame["tier"], "leads": 1, "with_history": known, "changed": changed})
        table = table.groupby("tier", sort=True).sum().reset_index()
        return table.assign(
            share_changed=table["changed"] / table["with_history"].where(table["with_history"] > 0)
        )


@dataclass
class Comparison:
    """Two replays side by side: leads whose tier differs, and each tier's figures under both."""

    names: tuple[str, str]
    changed: (
        pd.DataFrame
    )  # lead_id, row, tier_a, tier_b, decided_by_a, decided_by_b, opportunity, won, pipeline
    tiers: pd.DataFrame  # tier, then TIER_COLUMNS figures suffixed _a and _b


@dataclass
class Backtest:
    imported: ImportResult
    deals: DealImport | None
    replays: list[Replay]

    @property
    def comparison(self) -> Comparison | None:
        return compare(*self.replays[:2]) if len(self.replays) >= 2 else None


def run_backtest(
    leads_csv: Path,
    map_path: Path,
    rulebooks: list[Path],
    settings: Settings,
    deals_csv: Path | None = None,
    progress: Progress | None = None,
) -> Backtest:
    """Load the map, rulebooks and roster (a bad one fails first, with its file and line), import the export,
    replay it under each rulebook."""
    export_map = load_export_map(map_path)
    books = [load_rulebook(path, export_map.fields) for path in rulebooks]
    roster = load_roster(settings.roster_path)
    for book, path in zip(books, rulebooks, strict=True):
        check_rule_pools(book, roster, path)
    territories = load_territories(settings.territories_path)
    imported = import_leads(leads_csv, export_map, map_path, progress)
    deals = import_deals(deals_csv, export_map, map_path, imported.leads) if deals_csv else None
    release_memory()
    prepared = prepare(imported.leads, territories)
    release_memory()
    replays = [
        replay(prepared, deals, book, roster, open_chain(settings, book), name, export_map.fields)
        for book, name in zip(books, _names(rulebooks), strict=True)
    ]
    return Backtest(imported, deals, replays)


def _names(paths: list[Path]) -> list[str]:
    names = [p.name for p in paths]
    return names if len(set(names)) == len(names) else [f"{i + 1}:{n}" for i, n in enumerate(names)]


def prepare(leads: pd.DataFrame, territories: Territories) -> pd.DataFrame:
    """Validated leads enriched as route-inbound enriches them (no accounts, no provider: nothing leaves the
    machine), repeats within the export marked: the same for every rulebook, so done once."""
    enriched = enrich_leads(leads, None, None, territories)
    # only what dedupe reads: it copies the frame it is given
    marked = mark_duplicates(enriched[[c for c in DEDUPE_INPUTS if c in enriched]], pd.DataFrame(), set())
    enriched["duplicate_of"] = marked["duplicate_of"]
    enriched["existing_owner_id"] = marked["existing_owner_id"]
    return enriched


def replay(
    prepared: pd.DataFrame,
    deals: DealImport | None,
    rulebook: Rulebook,
    roster: Roster,
    chain: ModelChain | None,
    name: str,
    fields: LeadFields = NO_CUSTOM_FIELDS,
) -> Replay:
    """Classify and assign prepared leads as route-inbound would (writing nothing), join each to its deal; the
    tables group by each custom field too."""
    classified = classify_in_chunks(prepared, rulebook, chain)
    named = frozenset(roster.rep_id(r.owner) for r in rulebook.rules if r.owner)
    routed = assign_at_arrival(
        classified.loc[classified["tier"].notna(), [*ASSIGN_INPUTS, "decided_by"]],
        roster,
        rulebook.sla,
        named,
    )
    routed = routed[[c for c in ROUTED_KEPT if c in routed]]  # what outcome_frame reads
    review = classified[classified["tier"].isna()]
    extras = classified[["lead_id", *LEAD_EXTRAS]].set_index("lead_id")
    del classified  # each copy freed once read: a million leads' columns take hundreds of MiB
    frame = outcome_frame(routed, review, deals, name)
    del routed, review
    # only the columns looked up: indexing the whole frame copies it (a gigabyte at a million leads)
    by_id = prepared[["lead_id", "row", "historical_owner", *fields.names]].set_index("lead_id")
    # each lead found once in each frame (a million lead ids hashed per lookup), then every column taken
    at_id, at_extra = by_id.index.get_indexer(frame["lead_id"]), extras.index.get_indexer(frame["lead_id"])
    frame["row"] = _taken(by_id["row"], at_id, frame.index).astype("Int64")
    frame["historical_owner"] = _taken(by_id["historical_owner"], at_id, frame.index).astype("string")
    frame["historical_owner_id"] = resolve_owners(frame["historical_owner"], roster)
    frame = frame.join(hindsight(frame))  # VIP: a top share of the company's won deals
    frame["deal_state"] = frame["lead_id"].map(deal_states(deals)).astype("string")
    for column, dtype in LEAD_EXTRAS.items():
        frame[column] = _taken(extras[column], at_extra, frame.index).astype(dtype)
    for field in fields.names:  # not `name`: that is the rulebook's, which the replay is called by
        frame[field] = _taken(by_id[field], at_id, frame.index)
    tables = replay_tables(frame) | {f.name: metrics_by_field(frame, f) for f in fields.custom}
    return Replay(name, rulebook.version, frame, tables)


def _taken(values: pd.Series, at: np.ndarray, index: pd.Index) -> pd.Series:
    """values at positions `at` (from get_indexer: -1, not found, is missing), on index."""
    return pd.Series(values.array.take(at, allow_fill=True), index=index, name=values.name)


def classify_in_chunks(
    prepared: pd.DataFrame, rulebook: Rulebook, chain: ModelChain | None, rows: int = CLASSIFY_ROWS
) -> pd.DataFrame:
    """classify_leads over `rows` leads at a time (each lead is classified on its own), each chunk cut to the
    CLASSIFIED_KEPT columns: a million classified leads with every column would take gigabytes."""
    starts = range(0, len(prepared), rows) if len(prepared) else [0]
    parts = [classify_leads(prepared.iloc[s : s + rows], rulebook, chain)[CLASSIFIED_KEPT] for s in starts]
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def compare(a: Replay, b: Replay) -> Comparison:
    """Where b decides differently from a: each lead whose tier changes, and every tier's figures under both."""
    keep = ["lead_id", "row", "tier", "decided_by", "owner_id", "opportunity", "won", "pipeline"]
    both = a.leads[keep].merge(
        b.leads[["lead_id", "tier", "decided_by", "owner_id"]], on="lead_id", suffixes=("_a", "_b")
    )
    moved = both["tier_a"].fillna(REVIEW) != both["tier_b"].fillna(REVIEW)
    columns = [
        "lead_id",
        "row",
        "tier_a",
        "tier_b",
        "decided_by_a",
        "decided_by_b",
        "opportunity",
        "won",
        "pipeline",
    ]
    changed = both.loc[moved, columns].sort_values("row").reset_index(drop=True)
    tiers = a.tiers.merge(b.tiers, on="tier", how="outer", suffixes=("_a", "_b"))
    return Comparison((a.name, b.name), changed, tiers)
