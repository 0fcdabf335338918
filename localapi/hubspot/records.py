"""Seed records of the local HubSpot: World frames as HubSpot objects, stamps and numbers as HubSpot's text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from localapi.hubspot.specs import CONTACTS, LEAD_BASE, LEAD_FIELDS, LEAD_STATUS, Spec


def iso(stamps: object) -> pd.Series:
    """HubSpot's datetime text at millisecond precision: fixed width, so text order is time order."""
    stamps = pd.Series(pd.to_datetime(pd.Series(stamps, dtype=object), utc=True, format="mixed"))
    text = stamps.dt.floor("ms").dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
    return text.where(stamps.notna(), None).astype("string").reset_index(drop=True)


def iso_instant(stamp: pd.Timestamp) -> str:
    """One instant as `iso` writes it (a naive stamp is UTC)."""
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.floor("ms").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_iso() -> str:
    return iso_instant(pd.Timestamp.now(tz="UTC"))


def number_text(values: pd.Series) -> pd.Series:
    """Numbers as HubSpot writes them: 237, not 237.0."""
    text = pd.to_numeric(values, errors="coerce").astype("Float64").astype("string")
    return text.str.replace(r"\.0$", "", regex=True)


def hubspot_ids(world_ids: pd.Series, base: int) -> pd.Series:
    """World ids ("00Q000000000042") as HubSpot's numeric ids: base + the number."""
    return (base + world_ids.str[3:].astype("int64")).astype(str).reset_index(drop=True)


def records(spec_: Spec, ids: pd.Series, values: dict[str, object]) -> pd.DataFrame:
    """A table: property text per id (missing properties empty), `_num` the numeric id, `archived`."""

    def column(value: object) -> np.ndarray:
        constant = value is None or isinstance(value, str)
        return np.full(len(ids), value, dtype=object) if constant else np.asarray(value, dtype=object)

    frame = pd.DataFrame({p: column(values.get(p)) for p in spec_.properties}, index=pd.Index(ids, name="id"))
    frame = frame.astype("string")
    frame["hs_object_id"] = frame.index.astype("string")
    frame["_num"] = frame.index.astype("int64")
    frame["archived"] = False
    return frame


def copied(frame: pd.DataFrame, fields: dict[str, str]) -> dict[str, np.ndarray]:
    return {prop: frame[col].to_numpy(object) for prop, col in fields.items()}


def lead_contacts(
    leads: pd.DataFrame, first_activity: pd.Series, saved: object, changes: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Contacts for world leads (rows shaped like World.leads) and their lead-status history; `changes` are
    statuses reps set (shaped like World.status_changes), kept in the history at the moment they were set."""
    ids = hubspot_ids(leads["id"], LEAD_BASE)
    engaged = iso(first_activity.reindex(leads["id"]).to_numpy())
    converted = (leads["status"].eq("Converted") | leads["converted_opportunity_id"].notna()).to_numpy(bool)
    status = leads["status"].map(LEAD_STATUS).fillna("NEW").reset_index(drop=True)
    created, modified = iso(leads["created_at"]), iso(saved)
    values = copied(leads, LEAD_FIELDS) | {
        "email": leads["email"], "numemployees": number_text(leads["employees"]),
        "annualrevenue": number_text(leads["annual_revenue"]), "hs_lead_status": status,
        "lifecyclestage": np.where(converted, "opportunity", "lead"), "createdate": created,
        "lastmodifieddate": modified, "hs_sa_first_engagement_date": engaged,
    }  # fmt: skip
    contacts = records(CONTACTS, ids, values)
    contacts["_world"] = leads["id"].to_numpy()
    # history: NEW when created, IN_PROGRESS at the first activity, each status a rep set when they set it,
    # then the status it was last saved with unless a rep's change already put it there
    changes = changes if changes is not None else pd.DataFrame(columns=["lead_id", "status", "changed_at"])
    changes = changes[changes["lead_id"].isin(set(leads["id"]))].sort_values("changed_at", kind="stable")
    set_last = leads["id"].map(changes.groupby("lead_id")["status"].last()).map(LEAD_STATUS)
    recorded = status.eq(set_last.reset_index(drop=True)).fillna(False)
    worked = engaged.notna()
    later = status.ne("NEW") & (status.ne("IN_PROGRESS") | ~worked) & ~recorded
    set_ids, set_values = hubspot_ids(changes["lead_id"], LEAD_BASE), changes["status"].map(LEAD_STATUS)
    steps = [(ids, "NEW", created, "FORM"), (ids[worked], "IN_PROGRESS", engaged[worked], "CRM_UI"),
             (set_ids, set_values.fillna("NEW").to_numpy(), iso(changes["changed_at"]), "CRM_UI"),
             (ids[later], status[later], modified[later], "CRM_UI")]  # fmt: skip
    history = pd.concat(
        [pd.DataFrame({"id": i, "value": v, "timestamp": t, "sourceType": s}) for i, v, t, s in steps],
        ignore_index=True,
    )
    return contacts, history
