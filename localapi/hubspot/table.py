"""One object type's records in the local HubSpot, and how it filters, sorts and serialises them for search."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from localapi.hubspot.records import iso_instant
from localapi.hubspot.replies import ApiError, options
from localapi.hubspot.specs import CUSTOM_CONTACT_PROPERTIES, ENUMERATIONS, MAX_IN_VALUES, Spec


@dataclass
class Table:
    """One object type's records, and how HubSpot filters, sorts and serialises them."""

    spec: Spec
    frame: pd.DataFrame  # property text indexed by id, plus `_num` (the numeric id) and `archived`

    def live(self) -> pd.DataFrame:
        return self.frame[~self.frame["archived"].to_numpy(bool)]

    def describe(self, name: str) -> dict:
        """A Property as the properties API describes it: its required fields, and a plausible type."""
        spec_ = self.spec
        kind, field_type = (
            ("datetime", "date") if name in spec_.dates
            else ("number", "number") if name in spec_.numbers
            else ("enumeration", "select") if name in ENUMERATIONS
            else ("string", "text")
        )  # fmt: skip
        return {
            "name": name, "label": name.replace("_", " ").capitalize(), "type": kind, "fieldType": field_type,
            "description": "", "groupName": f"{spec_.kind.lower()}information", "options": options(name),
            "hubspotDefined": name not in CUSTOM_CONTACT_PROPERTIES, "archived": False, "hidden": False,
            "calculated": False, "formField": False, "modificationMetadata": {
                "archivable": True, "readOnlyDefinition": True, "readOnlyValue": name in spec_.read_only},
        }  # fmt: skip

    def comparable(self, frame: pd.DataFrame, prop: str) -> pd.Series:
        """The column as HubSpot compares it: instants as fixed-width text, numbers, lowercased text."""
        if prop not in self.spec.properties:
            raise ApiError(400, "VALIDATION_ERROR", f"Property '{prop}' does not exist")
        if prop == "hs_object_id":
            return frame["_num"].astype("Int64")
        if prop in self.spec.numbers:
            return pd.to_numeric(frame[prop], errors="coerce")
        return frame[prop] if prop in self.spec.dates else frame[prop].str.lower()

    def operand(self, prop: str, value: object, lowercase: bool = True) -> object:
        """A filter value as `comparable` holds the column: dates accept ms epochs or ISO text."""
        if value is None:
            raise ApiError(400, "VALIDATION_ERROR", f"The filter on {prop} has no value")
        text = str(value).strip()
        try:
            if prop in self.spec.dates:
                epoch = text.lstrip("-").isdigit()
                return iso_instant(
                    pd.Timestamp(int(text), unit="ms", tz="UTC") if epoch else pd.Timestamp(text)
                )
            if prop in self.spec.numbers:
                return float(text)
        except (ValueError, TypeError) as exc:
            raise ApiError(400, "VALIDATION_ERROR", f"{text!r} is not a valid value for {prop}") from exc
        return text.lower() if lowercase else text

    def matching(self, frame: pd.DataFrame, groups: list[list[dict]]) -> np.ndarray:
        """Rows matching all filters of any group; a filter repeated across groups is run once."""
        masks: dict[str, np.ndarray] = {}

        def mask(f: dict) -> np.ndarray:
            key = json.dumps(f, sort_keys=True, default=str)
            if key not in masks:
                masks[key] = self.match(frame, f)
            return masks[key]

        if not groups:
            return np.ones(len(frame), bool)
        return np.logical_or.reduce(
            [np.logical_and.reduce([mask(f) for f in g], initial=True) for g in groups]
        )

    def match(self, frame: pd.DataFrame, f: dict) -> np.ndarray:
        prop, op = str(f.get("propertyName")), f.get("operator")
        if op is None:
            raise ApiError(400, "VALIDATION_ERROR", f"The filter on {prop} names no operator")
        left = self.comparable(frame, prop)
        if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            has = (left.notna() & left.astype("string").ne("")).fillna(False).to_numpy(bool)
            return has if op == "HAS_PROPERTY" else ~has
        if op in ("IN", "NOT_IN"):
            values = f.get("values") or []
            if len(values) > MAX_IN_VALUES:
                raise ApiError(400, "VALIDATION_ERROR", f"{op} takes at most {MAX_IN_VALUES} values")
            # HubSpot documents that IN matches text properties only with values given in lowercase
            found = left.isin([self.operand(prop, v, lowercase=False) for v in values]).fillna(False)
            return found.to_numpy(bool) if op == "IN" else ~found.to_numpy(bool)
        right = self.operand(prop, f.get("value"))
        if op == "BETWEEN":
            return (
                ((left >= right) & (left <= self.operand(prop, f.get("highValue"))))
                .fillna(False)
                .to_numpy(bool)
            )
        compare = {
            "EQ": left.eq,
            "NEQ": left.eq,
            "GT": left.gt,
            "GTE": left.ge,
            "LT": left.lt,
            "LTE": left.le,
        }
        if op not in compare:
            raise ApiError(400, "VALIDATION_ERROR", f"Unsupported operator {op}")
        hit = compare[op](right).fillna(False).to_numpy(bool)
        return ~hit if op == "NEQ" else hit  # a record without the property equals nothing

    def order(self, frame: pd.DataFrame, keep: np.ndarray, sorts: list) -> np.ndarray:
        """The positions of the kept rows in the sort's order: only keys are sorted, never the records."""
        if len(sorts) > 1:
            raise ApiError(400, "VALIDATION_ERROR", "Search accepts one sort")
        positions = np.flatnonzero(keep)
        ids = frame["_num"].to_numpy()[positions]
        if not sorts:
            return positions[np.argsort(ids, kind="stable")]
        sort = sorts[0]
        if isinstance(sort, str):  # the short form: "createdate" or "-createdate"
            prop, descending = sort.lstrip("-"), sort.startswith("-")
        else:
            prop, descending = str(sort.get("propertyName")), sort.get("direction") == "DESCENDING"
        keys = pd.DataFrame(
            {"key": self.comparable(frame, prop).iloc[positions].to_numpy(), "id": ids, "at": positions}
        )
        # ties broken by id, so pages never overlap or skip
        ordered = keys.sort_values(
            ["key", "id"], ascending=[not descending, True], na_position="last", kind="stable"
        )
        return ordered["at"].to_numpy()

    def objects(self, page: pd.DataFrame, requested: list | None) -> list[dict]:
        """SimplePublicObjects: the requested properties (HubSpot drops unknown ones) and the stamps."""
        wanted = [*(requested or self.spec.defaults), "hs_object_id", "createdate", self.spec.modified]
        known = [p for p in dict.fromkeys(wanted) if p in self.spec.properties]
        values = page[[*known, "createdate", self.spec.modified]].to_numpy(dtype=object, na_value=None)
        return [
            {"id": i, "properties": dict(zip(known, row, strict=False)), "createdAt": row[-2],
             "updatedAt": row[-1], "archived": False}
            for i, row in zip(page.index, values.tolist(), strict=True)
        ]  # fmt: skip
