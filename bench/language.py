"""Language detection (leadrouter.enrich.language): the time to detect the language of 20,000 leads (message,
title and company; best and median of five after a warm-up that loads the model), and accuracy on the
labelled multilingual set in bench/data/language_samples.json (lead-like texts in 12 languages, short ones
included): overall, on texts of 20 characters or more and on shorter ones, per language. Prints one JSON
object. Targets: best ≤ 2 s per 20,000 leads; ≥ 95 % on texts of ≥ 20 characters.

    .venv/bin/python bench/language.py [leads]
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

SAMPLES = Path(__file__).parent / "data" / "language_samples.json"
LONG = 20  # characters: the accuracy target's threshold


def samples() -> pd.DataFrame:
    rows = json.loads(SAMPLES.read_text(encoding="utf-8"))["samples"]
    return pd.DataFrame(rows, columns=["label", "text"])


def leads(n: int) -> pd.DataFrame:
    """n leads whose messages are the samples in turn, each with an order number so no two texts repeat."""
    texts = samples()["text"]
    message = [f"{texts[i % len(texts)]} #{i}" for i in range(n)]
    return pd.DataFrame(
        {
            "message": pd.array(message, dtype="string"),
            "title": pd.array(["Head of Operations"] * n, dtype="string"),
            "company": pd.array([f"Company {i % 997}" for i in range(n)], dtype="string"),
            "country": pd.array(["US"] * n, dtype="string"),
        }
    )


def accuracy(frame: pd.DataFrame, found: pd.Series) -> dict:
    right = found.fillna("").to_numpy() == frame["label"].to_numpy()
    long = frame["text"].str.len().to_numpy() >= LONG
    per_language = (
        pd.DataFrame({"language": frame["label"], "right": right, "long": long})
        .groupby("language")
        .agg(texts=("right", "size"), correct=("right", "sum"), long_texts=("long", "sum"))
    )
    return {
        "texts": len(frame),
        "languages": int(frame["label"].nunique()),
        "accuracy": round(float(right.mean()), 4),
        "accuracy_long": round(float(right[long].mean()), 4),
        "accuracy_short": round(float(right[~long].mean()), 4) if (~long).any() else None,
        "long_texts": int(long.sum()),
        "per_language": {
            str(k): {"texts": int(r.texts), "correct": int(r.correct), "long_texts": int(r.long_texts)}
            for k, r in per_language.iterrows()
        },
        "missed": [
            {"label": lab, "found": f, "text": t}
            for lab, f, t, ok in zip(frame["label"], found.fillna(""), frame["text"], right, strict=True)
            if not ok
        ],
    }


def main(n: int = 20_000) -> dict:
    from leadrouter.enrich.language import detect_languages, language_of

    started = time.perf_counter()
    language_of(leads(10))  # loads the model
    load_s = time.perf_counter() - started
    batch = leads(n)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        language_of(batch)
        times.append(time.perf_counter() - started)
    labelled = samples()
    detected = detect_languages(labelled["text"])["language"]
    # as routing sees a lead with no country: a short or unclear text gives no language rather than a guess
    routed = language_of(pd.DataFrame({"message": labelled["text"].astype("string")}))["language"]
    return {
        "leads": n,
        "best_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "target_s": 2.0,
        "model_load_s": round(load_s, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "accuracy_target_long": 0.95,
        "detector": accuracy(labelled, detected),
        "routed_without_country": accuracy(labelled, routed),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000), ensure_ascii=False))
