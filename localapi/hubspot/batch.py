"""Batch read and batch update in the local HubSpot: inputs checked, 207 multi-status, property history kept."""

from __future__ import annotations

from collections import Counter

import pandas as pd
from starlette.requests import Request

from localapi.hubspot.records import now_iso
from localapi.hubspot.replies import (
    ApiError,
    batch_ids,
    batch_response,
    not_found,
    owner_entries,
    refuse_invalid_options,
    standard_error,
)
from localapi.hubspot.specs import (
    MAX_BATCH,
    MAX_HISTORY_BATCH,
)
from localapi.hubspot.table import Table


class Batches:
    """HubSpotAPI's batch endpoints: read (with propertiesWithHistory) and update."""

    def _batch_read(self, table: Table, _: Request, body: dict) -> tuple[int, dict]:
        most = MAX_HISTORY_BATCH if body.get("propertiesWithHistory") else MAX_BATCH
        if body.get("propertiesWithHistory") and len(body.get("inputs") or []) > most:
            raise ApiError(
                400, "VALIDATION_ERROR", "The maximum number of inputs supported in a batch request for property "
                f"histories is {most}. Please reduce the number of items and try again."
            )  # fmt: skip
        started, ids = now_iso(), list(dict.fromkeys(batch_ids(body, most)))
        live = table.live()
        found, missing = [i for i in ids if i in live.index], [i for i in ids if i not in live.index]
        results = table.objects(live.loc[found], body.get("properties"))
        histories = {p: self._histories(table, found, p) for p in body.get("propertiesWithHistory") or []}
        for result in results if histories else []:
            result["propertiesWithHistory"] = {p: h.get(result["id"], []) for p, h in histories.items()}
        return batch_response(results, [not_found(table.spec, missing)] if missing else [], started)

    def _histories(self, table: Table, ids: list[str], prop: str) -> dict[str, list[dict]]:
        """Each record's values of `prop`, newest first as HubSpot lists them. Only a contact's hs_lead_status
        and hubspot_owner_id keep a full history here; other properties show their current value."""
        if table is self.contacts and prop == "hs_lead_status":
            rows = self.history[self.history["id"].isin(ids)]
        elif table is self.contacts and prop == "hubspot_owner_id":
            rows = self.owner_history[self.owner_history["id"].isin(ids)]
        elif prop in table.spec.properties:
            now = table.frame.loc[ids, [prop, table.spec.modified]].dropna(subset=[prop])
            rows = pd.DataFrame({"id": now.index, "value": now[prop], "timestamp": now[table.spec.modified],
                                 "sourceType": "CRM_UI"})  # fmt: skip
        else:
            return {}
        rows = rows.sort_values("timestamp", ascending=False, kind="stable")
        fields = ["value", "timestamp", "sourceType"]
        return {k: g[fields].to_dict("records") for k, g in rows.groupby("id", sort=False)}

    def _update(self, table: Table, _: Request, body: dict) -> tuple[int, dict]:
        started, ids = now_iso(), batch_ids(body, MAX_BATCH)
        duplicates = sorted(k for k, n in Counter(ids).items() if n > 1)
        if duplicates:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
            )
        changes = [
            {k: "" if v is None else str(v) for k, v in (i.get("properties") or {}).items()}
            for i in body.get("inputs") or []
        ]
        names = set().union(*changes)
        invalid = sorted((names - set(table.spec.properties)) | (names & table.spec.read_only))
        if invalid:
            raise ApiError(400, "VALIDATION_ERROR", "Property values were not valid: " + ", ".join(
                f'{{"isValid":false,"message":"Property \\"{p}\\" does not exist or is read-only",'
                f'"error":"PROPERTY_DOESNT_EXIST","name":"{p}"}}' for p in invalid))  # fmt: skip
        if table is self.contacts:
            refuse_invalid_options(changes)
        live = set(table.live().index)
        missing = [i for i in ids if i not in live]
        if missing and self.reject_batches_with_missing_ids:
            error = not_found(table.spec, missing)
            raise ApiError(404, "OBJECT_NOT_FOUND", error["message"], context=error["context"])
        owners = set(self.owners["id"]) | {""}
        bad_owner = [(i, c["hubspot_owner_id"]) for i, c in zip(ids, changes, strict=True)
                     if i in live and c.get("hubspot_owner_id", "") not in owners]  # fmt: skip
        errors = [not_found(table.spec, missing)] if missing else []
        errors += [
            standard_error("VALIDATION_ERROR", 'Property values were not valid: [{"isValid":false,"message":'
                           f'"{owner} is not a valid owner id","error":"INVALID_OWNER_ID",'
                           '"name":"hubspot_owner_id"}]', {"ids": [i]})
            for i, owner in bad_owner
        ]  # fmt: skip
        rejected = {i for i, _ in bad_owner}
        apply = [(i, c) for i, c in zip(ids, changes, strict=True) if i in live and i not in rejected]
        if apply:
            self._apply(table, [i for i, _ in apply], [c for _, c in apply])
        results = table.objects(table.frame.loc[[i for i, _ in apply]], sorted(names))
        return batch_response(results, errors, started)

    def _apply(self, table: Table, ids: list[str], changes: list[dict]) -> None:
        """Write the changes, stamp the records, keep the lead-status history and the owner-write audit."""
        stamp = now_iso()
        update = pd.DataFrame.from_records(changes, index=ids).astype("string")
        frame = table.frame
        for prop in update.columns:
            given = update[prop][update[prop].notna()]
            value = given.mask(given.eq(""))  # an empty string clears the property
            if table is self.contacts and prop == "hs_lead_status":
                moved = value.notna() & value.ne(frame.loc[value.index, prop]).fillna(True)
                self._record_status(value[moved], stamp, "INTEGRATION")
            if table is self.contacts and prop == "hubspot_owner_id":
                writes = pd.DataFrame({"id": given.index, "owner_id": value.to_numpy()})
                self.audit = pd.concat([self.audit, writes], ignore_index=True)
                moved = value.notna() & value.ne(frame.loc[value.index, prop]).fillna(True)
                owners = pd.DataFrame({"hubspot_owner_id": value[moved], "at": stamp})
                self.owner_history = pd.concat(
                    [self.owner_history, owner_entries(owners, "at", "INTEGRATION")], ignore_index=True
                )
            frame.loc[value.index, prop] = value.to_numpy()
        frame.loc[ids, table.spec.modified] = stamp

    def _record_status(self, moved: pd.Series, stamp: str, source: str) -> None:
        rows = pd.DataFrame(
            {"id": moved.index, "value": moved.to_numpy(), "timestamp": stamp, "sourceType": source}
        )
        self.history = pd.concat([self.history, rows], ignore_index=True)
