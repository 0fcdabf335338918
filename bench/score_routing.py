"""What tiers from scores add to routing's classify stage: 20,000 enriched sandbox leads classified by the
shipped rulebook alone, then with a conversion model (trained on a generated history) scoring every lead and
tiering what no rule decided. Best of three each; prints one JSON object with the machine's load average.
Target: scoring adds at most 1 s per 20,000 leads.

    .venv/bin/python bench/score_routing.py [leads] [history]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from leadrouter.backtest.history import read_history
from leadrouter.classify import classify_leads
from leadrouter.classify.conversion.learn import learn
from leadrouter.classify.conversion.routing import Scorer
from leadrouter.classify.conversion.tiers import Cutoffs
from leadrouter.classify.history import labelled_history
from leadrouter.classify.rules import load_rulebook
from leadrouter.config import Settings
from leadrouter.enrich.territory import load_territories
from leadrouter.fields import load_fields
from leadrouter.sandbox.conversions import conversion_history


def _best(runs: int, call) -> tuple[float, float]:
    """The fastest of runs calls: its wall seconds, and its CPU seconds (less inflated on a busy machine)."""
    times = []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - started, time.process_time() - cpu))
    return min(times)


def main(n: int, history_leads: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        paths = conversion_history(history_leads, seed=1).write(Path(folder))
        fields = load_fields(paths["fields"])
        history = read_history(paths["leads"], paths["deals"], paths["map"], load_territories(), fields)
    _, model = learn(history.leads, fields, "bench", as_of=history.as_of)
    scorer = Scorer(model, Cutoffs())
    book = load_rulebook(Settings().rulebook_path)
    leads = labelled_history(2027, n, load_territories())  # those that pass validation: fewer than n
    per_20k = 20_000 / len(leads)
    rules_only = _best(3, lambda: classify_leads(leads, book, None))
    scored = _best(3, lambda: classify_leads(leads, book, None, scorer))
    score_alone = _best(3, lambda: scorer.score(leads))
    return {
        "leads": len(leads),
        "history_leads": history_leads,
        "classify_rules_only_s": round(rules_only[0], 3),
        "classify_with_scores_s": round(scored[0], 3),
        "scoring_added_s_per_20k": round((scored[0] - rules_only[0]) * per_20k, 3),
        "scoring_added_cpu_s_per_20k": round((scored[1] - rules_only[1]) * per_20k, 3),
        "scorer_alone_s_per_20k": round(score_alone[0] * per_20k, 3),
        "scorer_alone_cpu_s_per_20k": round(score_alone[1] * per_20k, 3),
        "target_s_per_20k": 1.0,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(main(*(args + [20_000, 10_000][len(args) :])), indent=2))
