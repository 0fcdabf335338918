"""The CRM's deals as the outcome loop stores them: one per lead, won, lost or open by the CRM's own meaning
(its closed and won flags, else its stage names), each unusable value reported with its fix."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from leadrouter.config import Settings
from leadrouter.schema import OUTCOME_FIELDS, utc_stamps
from leadrouter.validate.vocabularies import vocabulary_key

STATES = ("won", "lost", "open")


class DealStages(BaseModel):
    """Stage names per outcome, matched ignoring case, spaces and punctuation ("Closed Won" = closedwon)."""

    model_config = ConfigDict(extra="forbid")

    won: list[str] = []
    lost: list[str] = []
    open: list[str] = []

    @model_validator(mode="after")
    def _disjoint(self) -> DealStages:
        seen: dict[str, str] = {}
        for state in STATES:
            for name in getattr(self, state):
                other = seen.setdefault(vocabulary_key(name), state)
                if other != state:
                    raise ValueError(f"stage {name!r} is in both {other} and {state}: keep it in one list")
        return self

    def lookup(self) -> dict[str, str]:
        """Matching key of each listed stage -> won | lost | open."""
        return {vocabulary_key(name): state for state in STATES for name in getattr(self, state)}

    def merged(self, other: DealStages) -> DealStages:
        """Both lists; a stage the two give different meanings takes other's."""
        theirs = other.lookup()
        keep = {s: [n for n in getattr(self, s) if theirs.get(vocabulary_key(n), s) == s] for s in STATES}
        return DealStages(**{s: [*keep[s], *getattr(other, s)] for s in STATES})


# the vendors' default pipelines: Salesforce's OpportunityStage picklist and HubSpot's default pipeline ids
SALESFORCE_STAGES = DealStages(
    won=["Closed Won"],
    lost=["Closed Lost"],
    open=["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
          "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review"],
)  # fmt: skip
HUBSPOT_STAGES = DealStages(
    won=["closedwon"],
    lost=["closedlost"],
    open=["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
          "contractsent"],
)  # fmt: skip
SANDBOX_STAGES = SALESFORCE_STAGES.merged(DealStages(open=["Discovery"]))
# an export from an unknown CRM: both vendors' names, and the bare Won / Lost many exports write
EXPORT_STAGES = SALESFORCE_STAGES.merged(HUBSPOT_STAGES).merged(DealStages(won=["Won"], lost=["Lost"]))
VENDOR_STAGES = {"salesforce": SALESFORCE_STAGES, "hubspot": HUBSPOT_STAGES, "sandbox": SANDBOX_STAGES}


def _keys(values: pd.Series) -> pd.Series:
    """vocabulary_key of each stage, computed once per distinct stage."""
    text = values.astype("string")
    return text.map({v: vocabulary_key(v) for v in text.dropna().unique()}).astype("string")


def deal_states(
    stage: pd.Series,
    stages: DealStages,
    won: pd.Series | None = None,
    closed: pd.Series | None = None,
) -> pd.DataFrame:
    """Per deal: state (won | lost | open, <NA> when nothing says), is_closed and is_won. An explicit won or
    closed flag (nullable boolean; the CRM's own verdict) wins where given; the stage lists decide the rest.
    A stage that fits no list leaves the state <NA>: it is counted by unknown_stages, never guessed."""
    by_stage = _keys(stage).map(stages.lookup()).astype("string")
    nothing = pd.Series(pd.NA, index=stage.index, dtype="boolean")
    won = nothing if won is None else won.astype("boolean")
    closed = nothing if closed is None else closed.astype("boolean")
    is_won = won.fillna(pd.Series(by_stage.eq("won"), dtype="boolean").mask(by_stage.isna()))
    stage_closed = pd.Series(by_stage.isin(["won", "lost"]), dtype="boolean").mask(by_stage.isna())
    # a won deal is closed; a deal not won may be lost or still open: the closed flag or the stage says which
    is_closed = closed.fillna(is_won.mask(is_won.eq(False).fillna(False))).fillna(stage_closed)
    is_won = is_won.mask(is_closed.eq(False).fillna(False), False)
    state = pd.Series(pd.NA, index=stage.index, dtype="string")
    state[is_closed.eq(False).fillna(False)] = "open"
    state[(is_closed & is_won).fillna(False)] = "won"
    state[(is_closed & ~is_won).fillna(False)] = "lost"
    return pd.DataFrame(
        {"state": state, "is_closed": is_closed.fillna(False), "is_won": is_won.fillna(False)}
    ).astype({"is_closed": bool, "is_won": bool})


def unknown_stages(stage: pd.Series, state: pd.Series) -> dict[str, int]:
    """Stage values (as written, trimmed) of deals whose outcome nothing gave, with their counts, most first."""
    given = stage.astype("string").str.strip()
    counts = given[state.isna() & given.fillna("").ne("")].value_counts(sort=False)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {str(k): int(v) for k, v in ordered}


def stage_problems(unknown: dict[str, int], where: str) -> list[str]:
    """One message per stage value that fits no list, with its count and where to list it."""
    return [
        f"stage {name!r} ({n} deal{'s' if n > 1 else ''}) fits none of the won, lost or open stage lists: "
        f"its deals count as opportunities without an outcome; add it to one list in {where}"
        for name, n in unknown.items()
    ]


def configured_stages(settings: Settings) -> DealStages:
    """The configured CRM's default stage lists, each replaced by the one the settings give."""
    base = VENDOR_STAGES.get(settings.crm, EXPORT_STAGES)
    given = {"won": settings.won_stages, "lost": settings.lost_stages, "open": settings.open_stages}
    return DealStages(**{s: given[s] if given[s] is not None else getattr(base, s) for s in STATES})


def clean_outcomes(
    fetched: pd.DataFrame, stages: DealStages = EXPORT_STAGES
) -> tuple[pd.DataFrame, list[str]]:
    """The CRM's deals ready to store (one per lead), and a message per value that could not be used: a row
    without a lead id is skipped; an amount or close date that does not parse is stored empty; a deal the CRM
    gave no closed/won flag for and whose stage fits no list of `stages` is stored open and not won, and its
    stage reported with its count. A lead with several deals (a HubSpot contact can have many) keeps its won
    deal, else its largest."""
    frame = fetched.reindex(columns=["lead_id", *OUTCOME_FIELDS]).reset_index(drop=True)
    amount = pd.to_numeric(frame["amount"], errors="coerce")
    close, created = utc_stamps(frame["close_date"]), utc_stamps(frame["deal_created_at"])
    currency = frame["currency"].astype("string").str.strip().str.upper()
    odd_currency = currency.notna() & ~currency.str.fullmatch(r"[A-Z]{3}").fillna(False)
    no_lead = ~_given(frame["lead_id"])
    problems = [
        *_problems(frame, no_lead, "lead_id", "the row is skipped: link the deal to its lead"),
        *_problems(
            frame, amount.isna() & _given(frame["amount"]), "amount", "stored empty: make it a number"
        ),
        *_problems(
            frame, close.isna() & _given(frame["close_date"]), "close_date", "stored empty: make it a date"
        ),
        *_problems(
            frame,
            created.isna() & _given(frame["deal_created_at"]),
            "deal_created_at",
            "stored empty: make it a timestamp",
        ),
        *_problems(frame, odd_currency, "currency", "stored empty: give an ISO 4217 code such as EUR"),
    ]
    states = deal_states(frame["stage"], stages, _flag(frame["is_won"]), _flag(frame["is_closed"]))
    unknown = unknown_stages(frame.loc[~no_lead, "stage"], states.loc[~no_lead, "state"])
    problems += stage_problems(unknown, "the settings (LEADROUTER_WON_STAGES, _LOST_STAGES, _OPEN_STAGES)")
    frame["amount"] = amount.astype("float64")
    frame["close_date"] = pd.Series(close.dt.date, dtype=object).where(close.notna(), None)
    frame["deal_created_at"] = created.astype("datetime64[us, UTC]")
    frame["currency"] = currency.mask(odd_currency)
    frame["is_closed"], frame["is_won"] = states["is_closed"], states["is_won"]
    frame = frame[~no_lead].sort_values(["lead_id", "is_won", "amount"], ascending=[True, False, False])
    return frame.drop_duplicates("lead_id").reset_index(drop=True), problems


def _flag(values: pd.Series) -> pd.Series:
    """A CRM flag as nullable boolean: missing stays <NA> (the stage lists decide)."""
    text = values.astype("string").str.strip().str.casefold()
    return pd.Series(text.map({"true": True, "1": True, "false": False, "0": False}), dtype="boolean")


def _given(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().fillna("").ne("")


def _problems(frame: pd.DataFrame, bad: pd.Series, column: str, fix: str) -> list[str]:
    """One message per bad row (a handful: the CRM's own fields are typed), naming row, deal, lead and fix."""
    return [
        f"outcome row {i} (deal {frame.at[i, 'deal_id']!r}, lead {frame.at[i, 'lead_id']!r}): "
        f"{column} {str(frame.at[i, column])[:40]!r} is unusable; {fix} in the CRM"
        for i in frame.index[bad.to_numpy()]
    ]
