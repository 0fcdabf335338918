"""The assignment bench's inputs (bench/assign.py): classified leads in the shares of a real inbound mix, the
generated 60-rep roster, and the ledger's load on a busy morning. Seeded: the same call gives the same frames."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

TIERS = {"VIP": 0.10, "Standard": 0.45, "Nurture": 0.30, "Other": 0.15}
TERRITORIES = {  # region -> (share of leads, its territories and their shares; the region itself: no match)
    "NA": (0.48, {"NA-East": 0.45, "NA-Central": 0.25, "NA-West": 0.30}),
    "EMEA": (0.30, {"UKI": 0.30, "DACH": 0.25, "EMEA-North": 0.15, "EMEA-South": 0.20, "EMEA": 0.10}),
    "APAC": (0.12, {"APAC-ANZ": 0.35, "APAC": 0.65}),
    "LATAM": (0.08, {"LATAM": 1.0}),
}  # the last 2 %: region unknown
INDUSTRIES = {
    "Software": 0.22, "Financial Services": 0.14, "Healthcare": 0.11, "Manufacturing": 0.10, "Retail": 0.08,
    "Education": 0.06, "Government": 0.04, "Media": 0.04, "Logistics": 0.04, "Professional Services": 0.07,
    "Energy": 0.03, None: 0.07,
}  # fmt: skip
LANGUAGES = {  # region -> the languages its leads write in, and their shares
    "NA": {"en": 0.93, "es": 0.05, "fr": 0.02},
    "EMEA": {"en": 0.62, "de": 0.16, "fr": 0.12, "it": 0.05, "es": 0.05},
    "APAC": {"en": 0.55, "ja": 0.25, "zh": 0.20},
    "LATAM": {"es": 0.55, "pt": 0.40, "en": 0.05},
}
PRODUCT_LINES = {"Payments": 0.5, "Lending": 0.3, "Cards": 0.2}


def classified_leads(n: int, owners: list[str], seed: int = 11) -> pd.DataFrame:
    """n leads as classification leaves them (the canonical columns), arrival-ordered; ~5 % with an existing
    owner from `owners`, ~2 % repeats of an earlier lead of the batch."""
    from leadrouter.schema import CLASSIFIED_COLUMNS, ENRICHED_COLUMNS, LEAD_COLUMNS, conform

    rng = np.random.default_rng(seed)
    ids = np.array([f"00Q{i:012d}" for i in range(n)], dtype=object)
    region = rng.choice([*TERRITORIES, None], n, p=[s for s, _ in TERRITORIES.values()] + [0.02])
    territory = np.full(n, None, dtype=object)
    for name, (_, shares) in TERRITORIES.items():
        here = region == name
        territory[here] = rng.choice(list(shares), here.sum(), p=list(shares.values()))
    tier = rng.choice(list(TIERS), n, p=list(TIERS.values()))
    industry = rng.choice(np.array(list(INDUSTRIES), dtype=object), n, p=list(INDUSTRIES.values()))
    created = pd.Timestamp("2026-11-25 14:00", tz="UTC") + pd.to_timedelta(
        np.cumsum(rng.exponential(0.09, n)), unit="s"
    )
    owned = rng.random(n) < 0.05
    existing = np.where(owned, rng.choice(np.array(owners, dtype=object), n), None)
    # a repeat points at an earlier lead that is neither a repeat nor already owned
    repeat = (rng.random(n) < 0.02) & ~owned
    originals = np.flatnonzero(~repeat & ~owned)
    repeat[: originals[0] + 1] = False  # a repeat needs an original before it
    earlier = np.searchsorted(originals, np.flatnonzero(repeat))  # originals before each repeat
    picked = originals[(rng.random(repeat.sum()) * earlier).astype(int)]
    duplicate_of = np.full(n, None, dtype=object)
    duplicate_of[repeat] = "batch:" + ids[picked]
    duplicate_of[owned] = "contact:003" + ids[owned]
    frame = pd.DataFrame(
        {
            "lead_id": ids,
            "email": [f"lead{i}@company{i % 7919}.example" for i in range(n)],
            "company": [f"Company {i % 7919}" for i in range(n)],
            "industry": industry,
            "employees": rng.integers(5, 20_000, n),
            "lead_source": rng.choice(["contact_form", "chat", "webinar", "ebook", "event"], n),
            "created_at": created,
            "modified_at": created,
            "region": region,
            "territory": territory,
            "tier": tier,
            "category": np.where(tier == "Other", "support", "sales"),
            "priority": pd.Series(tier).map({"VIP": 1, "Standard": 2, "Nurture": 4, "Other": 5}),
            "decided_by": "rule:" + pd.Series(tier).str.lower(),
            "confidence": 1.0,
        }
    )
    frame = conform(frame, {**LEAD_COLUMNS, **ENRICHED_COLUMNS, **CLASSIFIED_COLUMNS})
    language = np.full(n, "en", dtype=object)
    for name, shares in LANGUAGES.items():
        here = region == name
        language[here] = rng.choice(list(shares), here.sum(), p=list(shares.values()))
    frame["language"] = pd.Series(language, dtype="string")
    frame["language_confidence"] = pd.array(rng.uniform(0.5, 1.0, n), dtype="Float64")
    frame["product_line"] = pd.Series(
        rng.choice(list(PRODUCT_LINES), n, p=list(PRODUCT_LINES.values())), dtype="string"
    )
    frame["duplicate_of"] = pd.Series(duplicate_of, dtype="string")
    frame["existing_owner_id"] = pd.Series(existing, dtype="string")
    return frame


def large_roster(seed: int = 3):
    """60 people in 12 pools: senior AEs (VIP) and AEs (Standard) per region, some covering territories or
    specialising, most AEs capped, a few away today; a VP; nurture and triage queues."""
    from leadrouter.assign.roster import Roster

    rng = np.random.default_rng(seed)
    places = {  # region -> (time zones with their holiday calendars, territories, senior AEs, AEs)
        "NA": ([("America/New_York", "US"), ("America/Chicago", "US"), ("America/Los_Angeles", "US-CA")],
               ["NA-East", "NA-Central", "NA-West"], 6, 15),
        "EMEA": ([("Europe/London", "GB"), ("Europe/Berlin", "DE-BY"), ("Europe/Paris", "FR"),
                  ("Europe/Stockholm", "SE")], ["UKI", "DACH", "EMEA-North", "EMEA-South"], 5, 14),
        "APAC": ([("Asia/Tokyo", "JP"), ("Asia/Singapore", "SG"), ("Australia/Sydney", "AU")],
                 ["APAC-ANZ", "APAC"], 3, 8),
        "LATAM": ([("America/Sao_Paulo", "BR"), ("America/Mexico_City", "MX")], ["LATAM"], 2, 6),
    }  # fmt: skip
    verticals = [v for v in INDUSTRIES if v]
    reps, pools, seniors_all, aes_all = [], [], [], []
    for region, (zones, territories, seniors, aes) in places.items():
        members = {"VIP": [], "Standard": []}
        for role, count in (("senior_ae", seniors), ("ae", aes)):
            for _ in range(count):
                k = len(reps) + 1
                zone, calendar = zones[k % len(zones)]
                rep = {
                    "id": f"005{k:012d}",
                    "name": f"Rep {k}",
                    "email": f"rep{k}@example.com",
                    "role": role,
                    "timezone": zone,
                    "holidays": calendar,
                    "weight": 0.5 if rng.random() < 0.15 else 1.0,
                }
                if role == "ae" and rng.random() < 0.5:  # covers one or two territories of the region
                    rep["regions"] = list(rng.choice(territories, min(len(territories), 2), replace=False))
                if rng.random() < 0.35:
                    rep["verticals"] = list(rng.choice(verticals, rng.integers(1, 3), replace=False))
                spoken = [lang for lang in LANGUAGES[region] if lang != "en" and rng.random() < 0.3]
                rep["languages"] = ["en", *spoken]
                if rng.random() < 0.25:
                    rep["skills"] = {"product_line": [str(rng.choice(list(PRODUCT_LINES)))]}
                if role == "ae" and rng.random() < 0.7:
                    rep["max_per_day"] = int(rng.integers(30, 120))
                if rng.random() < 0.4:
                    rep["max_open"] = int(rng.integers(60, 250))
                if rng.random() < 0.08:  # away this week
                    rep["time_off"] = [{"start": "2026-11-23", "end": "2026-11-27", "note": "leave"}]
                if rng.random() < 0.03:
                    rep["active"] = False
                reps.append(rep)
                members["VIP" if role == "senior_ae" else "Standard"].append(rep["id"])
        for a, b in zip(members["VIP"][::2], members["VIP"][1::2], strict=False):  # senior AEs pair up
            reps[int(a[3:]) - 1]["backup"], reps[int(b[3:]) - 1]["backup"] = b, a
        seniors_all += members["VIP"]
        aes_all += members["Standard"]
        for tier, names in members.items():
            prefix = "vip" if tier == "VIP" else "standard"
            # the region's pools: language first, then the product line (preferred), industry last
            # TODO(h-reps): a `balance: open_load` key goes here once pools can balance by open load
            skills = {"language": "preferred", "product_line": "preferred", "industry": "preferred"}
            pools.append(
                {"name": f"{prefix}-{region.lower()}", "tier": tier, "regions": [region], "reps": names,
                 "fallback": f"{prefix}-global", "skills": skills}
            )  # fmt: skip
    vp = {"id": f"005{len(reps) + 1:012d}", "name": "VP", "email": "vp@example.com", "role": "vp_sales"}
    reps.append(vp)
    pools += [
        {"name": "vip-global", "tier": "VIP", "reps": seniors_all, "fallback": vp["id"]},
        {"name": "standard-global", "tier": "Standard", "reps": aes_all[::2], "fallback": "00G000000000004"},
        {"name": "nurture", "tier": "Nurture", "reps": ["00G000000000001"], "fallback": "00G000000000001"},
        {"name": "triage", "tier": "Other", "reps": ["00G000000000004"], "fallback": "00G000000000004"},
    ]
    roster = Roster.model_validate(
        {
            "schedule": {"timezone": "America/New_York", "hours": {"start": "08:00", "end": "18:00"}},
            "reps": reps,
            "pools": pools,
            "queues": {"00G000000000001": "Nurture sequence", "00G000000000004": "Inbound triage"},
            "escalation": vp["id"],
        }
    )
    with _product_line_field():
        assert not roster.problems(), roster.problems()
    return roster


@contextmanager
def _product_line_field():
    """config/fields.yaml with the custom field the large roster's skills name, for the roster's check."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fields.yaml"
        path.write_text("custom:\n  - {name: product_line, type: category, known_at: arrival, values: "
                        f"[{', '.join(PRODUCT_LINES)}]}}\n")  # fmt: skip
        before = os.environ.get("LEADROUTER_FIELDS_PATH")
        os.environ["LEADROUTER_FIELDS_PATH"] = str(path)
        try:
            yield
        finally:
            os.environ.pop("LEADROUTER_FIELDS_PATH")
            if before is not None:
                os.environ["LEADROUTER_FIELDS_PATH"] = before


def busy_load(roster, seed: int = 5) -> pd.DataFrame:
    """The ledger's load this morning: capped reps between half and nearly all of their day used."""
    rng = np.random.default_rng(seed)
    rows = {}
    for rep in roster.reps:
        today = float(rng.integers(0, 15))
        if rep.max_per_day is not None:
            today = float(max(rep.max_per_day - rng.integers(1, max(rep.max_per_day // 2, 2)), 0))
        rows[rep.key] = {"assigned_today": today, "open": float(rng.integers(0, 40))}
    return pd.DataFrame.from_dict(rows, orient="index")
