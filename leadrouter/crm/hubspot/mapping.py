"""HubSpot payloads ⇄ canonical frames, pure: SimplePublicObjects (a search's JSON results, or the client's
models of a batch read) in, frames out; decision rows in, batch-update inputs out; replies and errors read
into per-lead results. No HTTP here."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from leadrouter.crm.base import ACCOUNT_COLUMNS, REJECTION_COLUMNS, WRITE_RESULT_COLUMNS
from leadrouter.fields import NO_CUSTOM_FIELDS, LeadFields, conform_leads, with_raw
from leadrouter.schema import UTC_TS, conform

UNWORKED = frozenset({"NEW", "OPEN"})  # lead statuses that say nobody has worked the lead yet
# the hs_lead_status option a rep sets to hand a lead back: a portal's own option (internal names are upper snake)
REJECTED_STATUS = "REJECTED_WRONG_OWNER"
REOPEN_STATUS = "OPEN"  # a handed-back lead's hs_lead_status once it has a new owner
REQUEST_REFUSED = frozenset({400, 404, 422})  # the batch itself was refused: resending it fails the same way
# a 400 naming a property the portal lacks (or will not let us write): every batch fails alike, so never split
PROPERTY_ERRORS = ("PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE", "Property values were not valid")
RECORD_VALUE_ERRORS = ("INVALID_OWNER_ID",)  # ...unless it is a record's value: split to find that record
TOUCH_DATES = ["hs_sa_first_engagement_date", "hs_first_outreach_date"]
ACCOUNT_PROPERTIES = [
    "name", "website", "domain", "hubspot_owner_id", "notes_last_updated", "numberofemployees", "industry",
    "annualrevenue",
]  # fmt: skip
DEAL_PROPERTIES = [
    "dealstage", "amount", "closedate", "hs_is_closed", "hs_is_closed_won", "createdate", "deal_currency_code",
]  # fmt: skip
EXISTING_COLUMNS = ["kind", "record_id", "email", "domain", "owner_id"]
OUTCOME_COLUMNS = [
    "lead_id", "deal_id", "stage", "is_closed", "is_won", "amount", "close_date", "currency", "deal_created_at",
]  # fmt: skip
INVALID_ID, NO_OWNER = "INVALID_ID: a HubSpot record id is a number", "NO_OWNER: the assignment has no owner"
WRITE_PROPERTIES = MappingProxyType({"tier": "lead_tier", "routing_reason": "routing_reason"})
# canonical lead column -> HubSpot contact property
LEAD_PROPERTIES = MappingProxyType(
    {
        "first_name": "firstname", "last_name": "lastname", "email": "email", "phone": "phone",
        "title": "jobtitle", "company": "company", "website": "website", "country": "country",
        "state": "state", "city": "city", "industry": "industry", "employees": "numemployees",
        "annual_revenue": "annualrevenue", "lead_source": "hs_analytics_source", "message": "message",
        "crm_owner_id": "hubspot_owner_id",
        "created_at": "createdate", "modified_at": "lastmodifieddate",
    }
)  # fmt: skip


def readable_ids(lead_ids: Sequence[str]) -> list[str]:
    """The distinct ids that can name a HubSpot record (it numbers its records)."""
    return [i for i in dict.fromkeys(lead_ids) if isinstance(i, str) and i.isdigit()]


def properties_frame(objects: list, columns: Sequence[str]) -> pd.DataFrame:
    """SimplePublicObjects' properties as a frame indexed by record id, `columns` always present."""
    frame = pd.DataFrame([o.properties for o in objects], columns=list(columns), dtype=object)
    return frame.set_axis(pd.Index([o.id for o in objects], dtype=object), axis=0)


def leading_integer(values: pd.Series) -> pd.Series:
    """237 from "237", "237.0" or a HubSpot range such as "25-50"; "1000+" gives 1000."""
    digits = values.astype("string").str.replace(",", "").str.extract(r"^\s*(-?\d+)", expand=False)
    return pd.to_numeric(digits, errors="coerce")


def leads_frame(
    objects: list, properties: Mapping[str, str], custom: LeadFields = NO_CUSTOM_FIELDS
) -> pd.DataFrame:
    """Contacts as canonical leads plus the custom fields (`properties` maps each column to its property)."""
    raw = properties_frame(objects, list(dict.fromkeys(properties.values())))
    frame = pd.DataFrame({column: raw[prop].to_numpy() for column, prop in properties.items()})
    frame["lead_id"] = raw.index.to_numpy()
    written = frame[["employees", "annual_revenue"]].copy()
    frame["employees"] = leading_integer(written["employees"])
    frame["annual_revenue"] = pd.to_numeric(written["annual_revenue"], errors="coerce")
    for name in written:  # a value that could not be read stays as written, for validation to report
        frame = with_raw(frame, name, written[name])
    return conform_leads(frame, custom)


def in_cursor_order(leads: pd.DataFrame) -> pd.DataFrame:
    """Sorted by (modified_at, numeric id): the order the cursor moves in."""
    # HubSpot types ids as strings: one that is not a number sorts after the numbers, by its text
    numeric_id = pd.to_numeric(leads["lead_id"], errors="coerce")
    keys = ["modified_at", "_id", "lead_id"]
    return (
        leads.assign(_id=numeric_id).sort_values(keys, kind="stable", na_position="last").drop(columns="_id")
    )


def batch_outcome(ids: list[str], reply: object) -> pd.DataFrame:
    """One result per id of a batch update answered 200 or 207."""
    written = {r.id for r in reply.results}
    refused = getattr(reply, "errors", None) or []  # only a 207 reply has errors
    errors = {i: f"{e.category}: {e.message}" for e in refused for i in (e.context or {}).get("ids", [])}
    out = pd.DataFrame({"lead_id": ids})
    out["ok"] = out["lead_id"].isin(written)
    out["error"] = out["lead_id"].map(errors).astype("string")
    unanswered = ~out["ok"] & out["error"].isna()  # neither written nor refused: try again later
    out["retry"] = unanswered
    out.loc[unanswered, "error"] = "HubSpot's reply named neither a result nor an error for this contact"
    return out[WRITE_RESULT_COLUMNS]


def failed_call(ids: list[str], exc: Exception, secret: str = "") -> pd.DataFrame:
    """Every id of a call that failed as a whole: retry unless HubSpot refused the request itself."""
    status = getattr(exc, "status", None)
    return pd.DataFrame(
        {"lead_id": ids, "ok": False, "retry": status not in REQUEST_REFUSED, "error": describe(exc, secret)}
    )


def property_error(exc: Exception) -> bool:
    """Whether HubSpot refused a batch for a property the portal lacks or will not let us write (the same
    for every batch), rather than for one record's value."""
    body = str(getattr(exc, "body", None) or "")
    named = any(marker in body for marker in PROPERTY_ERRORS)
    return getattr(exc, "status", None) == 400 and named and not any(e in body for e in RECORD_VALUE_ERRORS)


def describe(exc: Exception, secret: str = "") -> str:
    """HubSpot's category and message when the failure carries its error body, else the exception type and
    text; never `secret` (the access token)."""
    status = getattr(exc, "status", None)
    try:
        body = json.loads(getattr(exc, "body", None) or "")
        text = f"{body.get('category', f'HTTP {status}')}: {body.get('message', '')}"
    except (ValueError, TypeError, AttributeError):
        text = f"HTTP {status}: {getattr(exc, 'reason', exc)}" if status else f"{type(exc).__name__}: {exc}"
    return (text.replace(secret, "***") if secret else text)[:500]


def existing_frame(people: list, companies: list) -> pd.DataFrame:
    people_ = properties_frame(people, ["email", "hubspot_owner_id"]).astype("string")
    accounts = properties_frame(companies, ["domain", "hubspot_owner_id"]).astype("string")
    found = [
        pd.DataFrame({"kind": "contact", "record_id": people_.index.to_numpy(),
                      "email": people_["email"].str.lower().to_numpy(), "domain": None,
                      "owner_id": people_["hubspot_owner_id"].to_numpy()}),
        pd.DataFrame({"kind": "account", "record_id": accounts.index.to_numpy(), "email": None,
                      "domain": accounts["domain"].str.lower().to_numpy(),
                      "owner_id": accounts["hubspot_owner_id"].to_numpy()}),
    ]  # fmt: skip
    return pd.concat(
        [f for f in found if len(f)] or [pd.DataFrame(columns=EXISTING_COLUMNS)], ignore_index=True
    )


def accounts_frame(companies: list, active_owners: set[str]) -> pd.DataFrame:
    """Companies as ACCOUNT_COLUMNS; owner_active when the owner is among `active_owners`."""
    props = properties_frame(companies, ACCOUNT_PROPERTIES).astype("string")
    website = props["website"].where(props["website"].str.strip().ne("").fillna(False))
    domain = props["domain"].str.strip()
    website = website.fillna(("https://" + domain).where(domain.ne("").fillna(False)))
    owner = props["hubspot_owner_id"]
    frame = pd.DataFrame(
        {
            "account_id": props.index.to_numpy(), "name": props["name"].to_numpy(),
            "website": website.to_numpy(), "owner_id": owner.to_numpy(),
            "owner_active": owner.isin(active_owners).fillna(False).to_numpy(bool),
            "last_activity_at": props["notes_last_updated"].to_numpy(),
            "employees": leading_integer(props["numberofemployees"]).to_numpy(),
            "industry": props["industry"].to_numpy(),
            "annual_revenue": pd.to_numeric(props["annualrevenue"], errors="coerce").to_numpy(),
        }
    )  # fmt: skip
    return conform(frame, ACCOUNT_COLUMNS)


def owners_frame(owners: list) -> pd.DataFrame:
    live = [o for o in owners if not o.archived]
    names = [" ".join(n for n in (o.first_name, o.last_name) if n) for o in live]
    return pd.DataFrame(
        {
            "owner_id": [o.id for o in live], "name": names, "email": [o.email for o in live],
            "role": ["queue" if o.type == "QUEUE" else "user" for o in live], "active": True,
        },
        columns=["owner_id", "name", "email", "role", "active"],
    )  # fmt: skip


def inactive_frame(owners: list) -> pd.DataFrame:
    """Archived owners (users deactivated in HubSpot) as owner_id, email."""
    gone = [o for o in owners if o.archived]
    return pd.DataFrame(
        {"owner_id": [o.id for o in gone], "email": [o.email for o in gone]}, columns=["owner_id", "email"]
    )


def property_history(objects: list, prop: str) -> pd.DataFrame:
    """lead_id, value, timestamp (UTC): every value `prop` held, as propertiesWithHistory lists them."""
    values = [(o.id, (o.properties_with_history or {}).get(prop) or []) for o in objects]
    history = pd.DataFrame(
        [(i, v.value, v.timestamp) for i, entries in values for v in entries],
        columns=["lead_id", "value", "timestamp"],
    )
    history["timestamp"] = pd.to_datetime(history["timestamp"], utc=True, format="ISO8601").astype(UTC_TS)
    return history


def first_touches(objects: list, unworked: frozenset[str] = UNWORKED) -> pd.DataFrame:
    """lead_id, first_touch_at: the earliest engagement or outreach stamp, or the first lead status that says
    the lead was worked (any but `unworked`); failing those, when it was last contacted."""
    props = properties_frame(objects, [*TOUCH_DATES, "notes_last_contacted"])
    dates = props.apply(lambda column: pd.to_datetime(column, utc=True, format="ISO8601"))
    history = property_history(objects, "hs_lead_status")
    worked = history[~history["value"].isin(unworked)]
    dates["status"] = pd.to_datetime(worked.groupby("lead_id")["timestamp"].min(), utc=True).reindex(
        dates.index
    )
    first = dates[[*TOUCH_DATES, "status"]].min(axis=1).fillna(dates["notes_last_contacted"])
    return pd.DataFrame({"lead_id": dates.index.astype(str), "first_touch_at": first.to_numpy()})


def deal_links(results: list) -> list[tuple[str, str]]:
    """(contact id, deal id) pairs of a v4 association batch read's results, contacts to deals."""
    return [(r._from.id, str(to.to_object_id)) for r in results for to in r.to]


def outcomes_frame(pairs: pd.DataFrame, deals: list) -> pd.DataFrame:
    props = properties_frame(deals, DEAL_PROPERTIES).astype("string")
    stage = props["dealstage"]
    # a flag HubSpot did not send stays <NA>: the outcome loop's stage lists decide (outcomes.deals)
    closed = props["hs_is_closed"].map({"true": True, "false": False}).astype("boolean")
    won = props["hs_is_closed_won"].map({"true": True, "false": False}).astype("boolean")
    deal = pd.DataFrame(
        {
            "deal_id": props.index.to_numpy(), "stage": stage.to_numpy(object),
            "is_closed": closed.to_numpy(object), "is_won": won.to_numpy(object),
            "amount": pd.to_numeric(props["amount"], errors="coerce").astype(float).to_numpy(),
            "close_date": props["closedate"].str[:10].to_numpy(object),
            "currency": props["deal_currency_code"].to_numpy(object),
            "deal_created_at": props["createdate"].to_numpy(object),
        }
    )  # fmt: skip
    return pairs.merge(deal, on="deal_id")[OUTCOME_COLUMNS]


def rejections_frame(objects: list, rejection_status: str, since: pd.Timestamp) -> pd.DataFrame:
    """REJECTION_COLUMNS, oldest first: per contact, the latest change of hs_lead_status to `rejection_status`
    after `since`, credited to the hubspot_owner_id it held at that moment (else to its current owner)."""
    statuses = property_history(objects, "hs_lead_status")
    set_then = statuses["value"].eq(rejection_status) & statuses["timestamp"].gt(since)
    latest = (
        statuses[set_then].sort_values("timestamp", kind="stable").drop_duplicates("lead_id", keep="last")
    )
    owners = property_history(objects, "hubspot_owner_id").sort_values("timestamp", kind="stable")
    # the owner entry at or before each rejection (merge_asof wants both sides sorted on the time)
    found = pd.merge_asof(
        latest.rename(columns={"timestamp": "rejected_at"}).drop(columns="value"),
        owners.rename(columns={"timestamp": "rejected_at", "value": "owner_id"}),
        on="rejected_at",
        by="lead_id",
        direction="backward",
    )
    current = properties_frame(objects, ["hubspot_owner_id"])["hubspot_owner_id"]
    found["owner_id"] = found["owner_id"].fillna(found["lead_id"].map(current)).replace("", None)
    found["_id"] = pd.to_numeric(found["lead_id"], errors="coerce")  # ids are strings: not all are numbers
    found = found.sort_values(["rejected_at", "_id", "lead_id"], kind="stable", na_position="last")
    return found[REJECTION_COLUMNS].reset_index(drop=True)


def refusals(frame: pd.DataFrame) -> np.ndarray:
    """Why each assignment is never sent, '' for those sent: an id HubSpot cannot hold (it numbers its
    records), or no owner (writing it would clear hers)."""
    numeric = frame["lead_id"].astype("string").str.fullmatch(r"\d+").fillna(False).to_numpy(bool)
    owned = frame["owner_id"].astype("string").str.strip().ne("").fillna(False).to_numpy(bool)
    return np.select([~numeric, ~owned], [INVALID_ID, NO_OWNER], "")


def property_changes(
    writes: pd.DataFrame, write_properties: Mapping[str, str], known: frozenset[str], reopen_status: str
) -> list[dict[str, str]]:
    """A batch-update input's properties per assignment: the owner, the routing fields the portal has (a
    property it lacks would make HubSpot refuse every batch), and the reopen status when `reopen` is set."""
    routing = {p: writes[c] for c, p in write_properties.items() if c in writes and p in known}
    changes = pd.DataFrame({"hubspot_owner_id": writes["owner_id"], **routing})
    rows = changes.astype("string").fillna("").to_dict("records")  # an empty string clears a property
    reopen = writes["reopen"] if "reopen" in writes else pd.Series(False, index=writes.index)
    return [
        row | {"hs_lead_status": reopen_status} if back else row
        for row, back in zip(rows, reopen, strict=True)
    ]


def write_results(frame: pd.DataFrame, refusal: np.ndarray, outcomes: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One WRITE_RESULT_COLUMNS row per row of `frame`: the batches' outcomes, or the refusal of a row never sent."""
    outcome = pd.concat([pd.DataFrame(columns=WRITE_RESULT_COLUMNS), *outcomes], ignore_index=True)
    out = frame[["lead_id"]].merge(outcome, on="lead_id", how="left")
    refused = refusal != ""
    out.loc[refused, "error"] = refusal[refused]
    out.loc[refused, ["ok", "retry"]] = False
    return out.astype({"ok": bool, "retry": bool, "error": "string"})[WRITE_RESULT_COLUMNS]
