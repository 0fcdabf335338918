"""Learning from outcomes on a generated history (leadrouter.sandbox.conversions): the conversion model proven
out of time beside the shipped rulebook, the local model and the best single field, against the generator's
own oracle; the leaky fields refused; training time (wall and CPU) and peak RSS; scoring cost per 20,000 leads
(wall and CPU); the load average before and after, so a figure from a busy machine can be told apart (rerun it
on an idle one: CPU seconds move less with load than wall seconds). Prints one JSON object. Targets: AUC >= 0.80, >= 0.10 above the best field and the rulebook, <= 0.03 below the oracle,
training <= 60 s and peak RSS <= 2 GiB at 100,000 leads, scoring <= 1 s per 20,000 leads.

    .venv/bin/python bench/learning.py [leads] [seed]
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadrouter.backtest.history import read_history
from leadrouter.classify.conversion.learn import learn
from leadrouter.classify.conversion.proof import out_of_time
from leadrouter.classify.local_cache import default_model
from leadrouter.classify.rules import load_rulebook
from leadrouter.config import Settings
from leadrouter.enrich.territory import load_territories
from leadrouter.fields import load_fields
from leadrouter.outcomes.hindsight import labelled
from leadrouter.sandbox.conversions import conversion_history

SCORED = 20_000


def main(n: int, seed: int) -> dict:
    load_before = [round(x, 2) for x in os.getloadavg()]
    settings = Settings()
    generated = conversion_history(n, seed=seed)
    with tempfile.TemporaryDirectory() as folder:
        paths = generated.write(Path(folder))
        fields = load_fields(paths["fields"])
        started = time.perf_counter()
        history = read_history(paths["leads"], paths["deals"], paths["map"], load_territories(), fields)
        import_s = time.perf_counter() - started
    book = load_rulebook(settings.rulebook_path, fields)
    local = default_model(settings.model_dir)
    cpu, wall = time.process_time(), time.perf_counter()
    proof, model = learn(history.leads, fields, "bench", book, local, None, history.as_of)
    train_cpu, train_wall = time.process_time() - cpu, time.perf_counter() - wall
    oracle = _oracle_auc(history.leads, generated, history.as_of)
    sample = history.leads.sample(min(SCORED, len(history.leads)), random_state=0)
    scoring, scoring_cpu = [], []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        model.score(sample)
        scoring.append(time.perf_counter() - started)
        scoring_cpu.append(time.process_time() - cpu)
    auc = proof.model["auc"]
    return {
        "leads": n, "seed": seed, "base_rate": round(float(generated.oracle.mean()), 4),
        "used": proof.leads, "auc_out_of_time": auc, "vip_precision": proof.model["vip_precision"],
        "vip_recall": proof.model["vip_recall"], "oracle_auc": oracle, "gap_to_oracle": round(oracle - auc, 4),
        "baselines": proof.baselines,
        "margin_over_best_field": round(auc - proof.baselines["best_field"]["auc"], 4),
        "margin_over_rulebook": round(auc - proof.baselines["rulebook"]["auc"], 4),
        "margin_over_local_model": round(auc - proof.baselines["local_model"]["auc"], 4),
        "refused": [r.field for r in proof.refused], "known_later_left_out": proof.later,
        "import_s": round(import_s, 2), "training_wall_s": round(train_wall, 2),
        "training_cpu_s": round(train_cpu, 2), "model_fit_s": round(proof.seconds, 2),
        "scoring_s_per_20k": round(min(scoring) * SCORED / len(sample), 3),
        "scoring_cpu_s_per_20k": round(min(scoring_cpu) * SCORED / len(sample), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpus": os.cpu_count(), "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "calibration": proof.calibration.to_dict(orient="records"),
        "lift": proof.lift.to_dict(orient="records"),
    }  # fmt: skip


def _oracle_auc(leads: pd.DataFrame, generated, as_of: pd.Timestamp) -> float:
    """The generator's own probability, ranked on the same newest leads the model was measured on."""
    data, _ = labelled(leads, None, as_of)
    test = out_of_time(data["created_at"])
    truth = generated.oracle.set_axis(generated.leads["Lead ID"].to_numpy())
    held = data[test]
    return round(float(roc_auc_score(held["converted"], truth.reindex(held["lead_id"]).to_numpy())), 4)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    result = main(*(args + [100_000, 0][len(args) :]))
    print(json.dumps(result, indent=2, default=lambda v: v.item() if isinstance(v, np.generic) else str(v)))
