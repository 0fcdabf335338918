"""The rulebook stage: a 50-rule book over 100,000 enriched leads, after a warm-up (as a running worker has it).
Prints one JSON object: best and median of five runs, and the share each kind of rule decided. Target: ≤ 1 s.

    .venv/bin/python bench/rules.py [leads]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

# 38 more rules in the shapes a real book grows: territory carve-outs, industry and size bands, regexes on
# the message and title, in-lists, null checks; added after the shipped rules, so every one is evaluated
EXTRA = [
    *[
        {"id": f"territory-{t.lower()}", "when": f'territory == "{t}" and employees >= {s} and senior_buyer',
         "tier": "VIP"}
        for t, s in [("DACH", 150), ("UKI", 180), ("NA-East", 250), ("NA-West", 250), ("APAC-ANZ", 120),
                     ("EMEA-North", 150), ("EMEA-South", 150), ("NA-Central", 220), ("LATAM", 100), ("APAC", 300)]
    ],
    *[
        {"id": f"industry-{i}", "when": f'industry == "{name}" and employees >= {lo} and employees < {hi}',
         "tier": "Standard"}
        for i, (name, lo, hi) in enumerate(
            [("Software", 50, 5000), ("Financial Services", 100, 10000), ("Healthcare", 200, 20000),
             ("Manufacturing", 300, 50000), ("Retail", 500, 100000), ("Education", 1000, 50000),
             ("Government", 2000, 100000), ("Media", 100, 2000), ("Logistics", 200, 20000),
             ("Professional Services", 20, 1000)]
        )
    ],
    *[
        {"id": f"message-{i}", "when": f'matches(message, r"(?i)\\b({words})\\b") and not is_free_mail',
         "tier": tier}
        for i, (words, tier) in enumerate(
            [("enterprise license|sso|audit logs", "VIP"), ("board meeting|budget is approved", "VIP"),
             ("rolling it out|rollout", "Standard"), ("walk me through|compare", "Standard"),
             ("just exploring|no rush", "Nurture"), ("slides|recording", "Nurture"),
             ("proposal|quote", "Standard"), ("contract .* ends", "Standard"),
             ("inbound leads a month", "Standard"), ("shortlist|evaluating vendors", "Standard")]
        )
    ],
    *[
        {"id": f"title-{i}", "when": f'matches(title, r"(?i)\\b({words})\\b") and lead_source in {sources}',
         "tier": tier}
        for i, (words, sources, tier) in enumerate(
            [("revops|revenue operations", ("chat", "contact_form"), "Standard"),
             ("procurement|purchasing", ("contact_form", "event"), "Standard"),
             ("engineer|developer", ("chat",), "Nurture"), ("analyst", ("event",), "Nurture"),
             ("marketing", ("webinar", "ebook"), "Nurture")]
        )
    ],
    {"id": "unknown-size-senior", "when": "is_null(employees) and senior_buyer and not is_free_mail",
     "tier": "Standard"},
    {"id": "free-mail-no-title", "when": "is_free_mail and is_null(title)", "tier": "Nurture"},
    {"id": "no-message-event", "when": 'is_null(message) and lead_source == "event"', "tier": "Nurture"},
]  # fmt: skip


def fifty_rule_book(shipped: Path, out: Path) -> Path:
    book = yaml.safe_load(shipped.read_text())
    book["rules"] += EXTRA
    out.write_text(yaml.safe_dump(book, sort_keys=False))
    return out


def main(n: int = 100_000) -> dict:
    from leadrouter.classify.history import labelled_history
    from leadrouter.classify.rules import classify_by_rules, load_rulebook
    from leadrouter.config import PROJECT_ROOT
    from leadrouter.enrich.territory import load_territories

    with tempfile.TemporaryDirectory() as tmp:
        book = load_rulebook(fifty_rule_book(PROJECT_ROOT / "config" / "rulebook.yaml", Path(tmp) / "b.yaml"))
    # validation quarantines ~6 % of generated leads: generate more, keep exactly n valid ones
    leads = labelled_history(seed=5, leads=int(n * 1.08), territories=load_territories()).head(n)
    classify_by_rules(leads.head(1000), book)  # warm-up: regex compilation, pandas caches
    runs, decided = [], None
    for _ in range(5):
        started = time.perf_counter()
        decided = classify_by_rules(leads, book)
        runs.append(time.perf_counter() - started)
    kinds = decided["decided_by"].str.partition(":")[2].str.partition("-")[0].value_counts(normalize=True)
    return {
        "rules": len(book.rules),
        "leads": len(leads),
        "best_s": round(min(runs), 3),
        "median_s": round(statistics.median(runs), 3),
        "resolved_share": round(float(decided["tier"].notna().mean()), 4),
        "share_by_rule_family": {k: round(float(v), 4) for k, v in kinds.head(8).items()},
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)))
