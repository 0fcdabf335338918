"""A simulated quarter for the star schema's tests: routed leads with what routing recorded (pool, region,
industry, custom fields), SLA events (touches by the rep who acted after a re-route, breaches, rejections),
review rows, and deals in the sandbox CRM; and every figure of the fact table and the snapshots computed from
those raw events in plain Python, apart from leadrouter."""

from __future__ import annotations

import random
import sqlite3
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta

from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.store import Store
from leadrouter.store.tables import decisions, review_queue, sla_events
from tests.helpers.clock import WORKDAY

NOW = WORKDAY
WINDOW = timedelta(days=97)  # the flow's 90 days + 7 days of grace
REPS = {  # config/roster.yaml: rep -> a pool naming them
    "005000000000001": "vip-na", "005000000000003": "vip-emea", "005000000000007": "standard-na",
    "005000000000008": "standard-na", "005000000000010": "standard-emea", "005000000000011": "standard-emea",
}  # fmt: skip
NURTURE_QUEUE = "00G000000000001"
RULES = ["vip-exec", "std-fit", "nurture-small", "other-support"]
TIERS = ["VIP", "Standard", "Nurture", "Other"]
REGIONS = ["NA", "EMEA", "APAC"]
INDUSTRIES = ["Software", "Healthcare", "Retail"]
CHANNELS = ["demo_request", "webinar", "chat", None]
COUNTRIES = ["US", "DE", "JP", None]
SNAPSHOT_COUNTS = ["leads", "accepted", "breached", "wrong_assignments", "reassigned", "opportunities", "won",
                   "closed_deals", "matured"]  # fmt: skip


def quarter(lead_ids: list[str], seed: int = 11) -> list[dict]:
    """One dict per lead over the 120 days before NOW (none 94-100 days old: the window's edge moves between
    runs); a few leads still wait in review, a few are quarantined (never counted)."""
    rng = random.Random(seed)
    leads = []
    for i, lead_id in enumerate(lead_ids):
        age = rng.uniform(1, 120)
        age += 7 if 94 < age < 100 else 0
        created = (NOW - timedelta(days=age)).replace(microsecond=0)
        status = rng.choices(["written", "review", "quarantined"], [90, 5, 5])[0]
        tier = rng.choice(TIERS) if status != "review" else None
        kind = "review" if status == "review" else rng.choices(["rule", "model", "review"], [70, 15, 15])[0]
        rule = rng.choice(RULES) if kind == "rule" else None
        first = None
        if status != "review":
            first = NURTURE_QUEUE if tier == "Nurture" and rng.random() < 0.3 else rng.choice(list(REPS))
        lead = {
            "lead_id": lead_id, "status": status, "tier": tier, "kind": kind, "rule": rule,
            "decided_by": {"rule": f"rule:{rule}", "model": "model:local-v1", "review": "review:ann"}[kind]
            if status != "review" else None,
            "created": created, "decided": created + timedelta(seconds=40), "first_owner": first,
            "pool": REPS.get(first, "nurture") if first else None, "region": rng.choice(REGIONS),
            "industry": rng.choice(INDUSTRIES), "budget": rng.choice([None, 1000 * (i % 7)]),
            "lead_source": rng.choice(CHANNELS), "country": rng.choice(COUNTRIES),
            "employees": rng.choice([None, 4, 10, 11, 49, 50, 199, 200, 999, 1000, 25_000]),
            "language": rng.choice(["en", "de", None]),
            "breach": False, "reject": False, "owners": [first] if first else [], "touch": None,
            "review_row": kind == "review", "deal": None,
        }  # fmt: skip
        if status == "written":
            moved = rng.random()
            lead["breach"], lead["reject"] = moved < 0.10, 0.10 <= moved < 0.16
            if lead["breach"] or lead["reject"]:
                lead["owners"].append(rng.choice([r for r in REPS if r != first]))
            if rng.random() < 0.75:  # touched by whoever owns the lead by then
                lead["touch"] = created + timedelta(minutes=20 + rng.expovariate(1 / 30))
            if rng.random() < 0.4:
                lead["deal"] = deal(rng, created, i)
        leads.append(lead)
    return leads


def deal(rng: random.Random, created: datetime, i: int) -> dict:
    closed = rng.random() < 0.5
    won = closed and rng.random() < 0.5
    return {
        "deal_id": f"006S{i:08d}",
        "amount": round(rng.uniform(2_000, 90_000), 2),
        "closed": closed,
        "won": won,
        "stage": "Closed Won" if won else "Closed Lost" if closed else "Discovery",
        "close_date": (created + timedelta(days=rng.uniform(3, 60))).date() if closed else None,
        "created": created + timedelta(days=1, hours=2),
    }


def write_quarter(store: Store, crm: SandboxCRM, leads: list[dict]) -> None:
    """The leads as the ledger holds them (decisions, SLA events, review rows), their deals in the CRM."""
    rows, events, review = [], [], []
    for lead in leads:
        rows.append(
            {"source": "sandbox", "lead_id": lead["lead_id"], "status": lead["status"], "tier": lead["tier"],
             "decided_by": lead["decided_by"], "owner_id": lead["owners"][-1] if lead["owners"] else None,
             "pool": lead["pool"], "lead_created_at": lead["created"], "decided_at": lead["decided"],
             "shadow": False, "write_attempts": 1, "custom_fields": {"budget": lead["budget"]},
             "lead_source": lead["lead_source"], "country": lead["country"], "employees": lead["employees"],
             "language": lead["language"],
             "explanation": {"region": lead["region"], "enrichment": {"industry": lead["industry"]}}}
        )  # fmt: skip
        moved = lead["decided"] + timedelta(minutes=10)
        for kind in ("breach", "reject"):
            if lead[kind]:
                first, then = lead["owners"]
                events += [event(lead, kind, first, None, moved), event(lead, "reroute", first, then, moved)]
        if lead["touch"]:
            events.append(event(lead, "touch", lead["owners"][-1], None, lead["touch"]))
        if lead["review_row"]:
            review.append({"source": "sandbox", "lead_id": lead["lead_id"], "reason": "unsure", "created_at": lead["created"]})  # fmt: skip
    with store.transaction() as conn:
        conn.execute(decisions.insert(), rows)
        conn.execute(sla_events.insert(), events)
        conn.execute(review_queue.insert(), review)
    put_deals(crm, leads)


def event(lead: dict, kind: str, owner: str, new_owner: str | None, at: datetime) -> dict:
    return {"source": "sandbox", "lead_id": lead["lead_id"], "kind": kind, "owner_id": owner,
            "new_owner_id": new_owner, "at": at}  # fmt: skip


def put_deals(crm: SandboxCRM, leads: list[dict]) -> None:
    """Each lead's deal in the sandbox CRM, converted from its lead (replacing what it had)."""
    with sqlite3.connect(crm.path) as db:
        for lead in leads:
            d = lead["deal"]
            if d is None:
                continue
            db.execute("DELETE FROM deals WHERE id = ?", (d["deal_id"],))
            db.execute(
                "INSERT INTO deals (id, lead_id, stage, amount, close_date, is_closed, is_won, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (d["deal_id"], lead["lead_id"], d["stage"], d["amount"],
                 d["close_date"].isoformat() if d["close_date"] else None, int(d["closed"]), int(d["won"]),
                 d["created"].isoformat()),
            )  # fmt: skip
            db.execute(
                "UPDATE leads SET converted_opportunity_id = ? WHERE id = ?", (d["deal_id"], lead["lead_id"])
            )


def expected_facts(leads: list[dict], known_deals: dict[str, dict], at: datetime) -> dict[str, dict]:
    """The fact table's figures per lead, from the raw events; known_deals: the deal the ledger holds for each
    lead (the ones the runs fetched), as the CRM had it then."""
    out = {}
    for lead in leads:
        if lead["status"] == "quarantined":
            continue
        d = known_deals.get(lead["lead_id"])
        owners = lead["owners"]
        out[lead["lead_id"]] = {
            "arrival_date": lead["created"].date(),
            "arrival_hour": lead["created"].hour,
            "tier": lead["tier"],
            "rule": lead["rule"],
            "decided_kind": lead["kind"],
            "pool": lead["pool"],
            "first_owner_id": owners[0] if owners else None,
            "owner_id": owners[-1] if owners else None,
            "owner_path": " > ".join(owners) if owners else "(none)",
            "region": lead["region"],
            "industry": lead["industry"],
            "budget": lead["budget"],
            "lead_source": lead["lead_source"],
            "country": lead["country"],
            "employees": lead["employees"],
            "size_band": size_band(lead["employees"]),
            "language": lead["language"],
            "accepted": lead["touch"] is not None,
            "speed_to_lead_min": (lead["touch"] - lead["created"]).total_seconds() / 60
            if lead["touch"]
            else None,
            "sla_breached": lead["breach"],
            "wrong_assignment": lead["reject"],
            "reassigned": lead["breach"] or lead["reject"],
            "manual_triage": lead["review_row"],
            "opportunity": d is not None,
            "won": bool(d and d["won"]),
            "closed": bool(d and d["closed"]),
            "deal_id": d["deal_id"] if d else None,
            "deal_stage": d["stage"] if d else None,
            "deal_amount": d["amount"] if d else None,
            "deal_close_date": d["close_date"] if d else None,
            "deal_created_at": d["created"] if d else None,
            "deal_final": bool(d and d["closed"]) or lead["created"] + timedelta(days=365) <= at,
            "matured": lead["created"] + timedelta(days=90) <= at,
        }
    return out


def size_band(employees: int | None) -> str | None:
    """The company-size band of docs/outcome-tables.md, written out by hand."""
    if employees is None:
        return None
    for top, band in ((10, "1-10"), (49, "11-49"), (199, "50-199"), (999, "200-999")):
        if employees <= top:
            return band
    return "1000+"


def expected_snapshot(facts: dict[str, dict]) -> dict[tuple[str, str], dict]:
    """(dimension, value) -> the snapshot's counts and speeds, from expected_facts."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for fact in facts.values():
        for dimension, key in (("tier", "tier"), ("rule", "rule"), ("first_owner_id", "first_owner_id")):
            groups[(dimension, fact[key] or "(none)")].append(fact)
        groups[("source", "sandbox")].append(fact)
    out = {}
    for group, rows in groups.items():
        speeds = sorted(r["speed_to_lead_min"] for r in rows if r["accepted"])
        out[group] = {
            "leads": len(rows),
            "accepted": sum(r["accepted"] for r in rows),
            "breached": sum(r["sla_breached"] for r in rows),
            "wrong_assignments": sum(r["wrong_assignment"] for r in rows),
            "reassigned": sum(r["reassigned"] for r in rows),
            "opportunities": sum(r["opportunity"] for r in rows),
            "won": sum(r["won"] for r in rows),
            "closed_deals": sum(r["closed"] for r in rows),
            "matured": sum(r["matured"] for r in rows),  # every opportunity here has a date
            "speed_median_min": statistics.median(speeds) if speeds else None,
            "speed_p90_min": (statistics.quantiles(speeds, n=10, method="inclusive")[8] if len(speeds) > 1
                              else speeds[0] if speeds else None),
        }  # fmt: skip
    return out


def in_window(lead: dict, at: datetime) -> bool:
    return lead["status"] != "quarantined" and lead["decided"] >= at - WINDOW


def as_date(value: object) -> date | None:
    """A date column as read back from either database."""
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))
