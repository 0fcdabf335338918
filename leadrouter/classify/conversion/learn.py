"""Learning from a history of leads and what they became, proven out of time: label from hindsight, leakage
guard, a model trained on the older leads and measured on the newest beside three baselines, kept only if it
beats the current model there. Used by `leadrouter model train --history` and the outcome loop's retrain."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadrouter.classify.conversion import baselines
from leadrouter.classify.conversion.features import arrival_inputs, dense_frame
from leadrouter.classify.conversion.leakage import (
    Refusal,
    later_fields,
    refusals,
    single_field_aucs,
    suspects,
    unknown_allowed,
)
from leadrouter.classify.conversion.model import ConversionModel
from leadrouter.classify.conversion.proof import (
    TEST_SHARE,
    calibration,
    check_enough,
    figures,
    lift_by_decile,
    out_of_time,
)
from leadrouter.classify.local import LocalModel
from leadrouter.classify.rules import Rulebook
from leadrouter.fields import LeadFields
from leadrouter.outcomes.hindsight import HindsightRules, labelled


@dataclass
class Proof:
    """What was learnt from and how it did on the newest leads, beside the baselines and the current model."""

    leads: dict[str, int]  # given, undated (left out), immature (left out), train, test, converted
    model: dict[str, object]  # auc, vip_precision, vip_recall on the newest leads
    baselines: dict[str, dict[str, object]]  # rulebook, local_model, best_field (with its name)
    current: dict[str, object] | None  # the kept conversion model on the same leads (None: none yet)
    lift: pd.DataFrame
    calibration: pd.DataFrame
    single_fields: dict[str, float]  # each input's AUC alone (cross-fitted on the older leads)
    refused: list[Refusal] = field(default_factory=list)
    later: list[str] = field(default_factory=list)  # fields declared known later: never read
    suspected: dict[str, str] = field(default_factory=dict)  # allowed, though close to the refusal line
    kept: bool = False
    verdict: str = ""
    seconds: float = 0.0

    def summary(self) -> dict:
        """The proof as JSON-ready figures (tables apart: lift.csv and calibration.csv)."""
        return {
            "leads": self.leads, "model": self.model, "baselines": self.baselines, "current": self.current,
            "single_fields": {k: round(v, 4) for k, v in self.single_fields.items()},
            "refused": [{"field": r.field, "auc": round(r.auc, 4), "why": r.why} for r in self.refused],
            "known_later": self.later, "suspected": self.suspected, "kept": self.kept, "verdict": self.verdict,
            "training_seconds": round(self.seconds, 2),
        }  # fmt: skip


def learn(
    frame: pd.DataFrame,
    fields: LeadFields,
    name: str,
    rulebook: Rulebook | None = None,
    local: LocalModel | None = None,
    current: ConversionModel | None = None,
    as_of: pd.Timestamp | None = None,
    rules: HindsightRules | None = None,
    test_share: float = TEST_SHARE,
    allowed: frozenset[str] = frozenset(),
) -> tuple[Proof, ConversionModel]:
    """Train on the older leads, prove on the newest (frame: enriched leads with hindsight.OUTCOME_COLUMNS);
    allowed: fields a person confirmed as known at arrival though suspected of leaking (leakage.refusals).
    Raises TooLittleHistory (proof.check_enough), ValueError for an allowed name that is no input.

    The model returned is the one fitted on the older leads only, never refitted on the newest: its recorded
    out-of-time figures are its own, and the next retrain can measure it on its newest leads, which it has never
    seen (they are newer than anything it learnt from). Refitted on everything, the kept model would have seen
    part of the next test set and a better newcomer would lose to it. The cost: the newest quarter is learnt
    from only at the next retrain."""
    data, counts = labelled(frame, rules, as_of)
    y = data["converted"].to_numpy(dtype=bool)
    test = out_of_time(data["created_at"], test_share)
    check_enough(y, test)
    train, held = data[~test], data[test]
    started = time.perf_counter()
    dense = dense_frame(data, arrival_inputs(fields))
    aucs = single_field_aucs(dense[~test], y[~test])
    if unknown := unknown_allowed(allowed, aucs):
        raise ValueError(
            f"allowed field(s) {', '.join(unknown)} (--allow-field, LEADROUTER_ALLOW_FIELDS) are no input of "
            f"this history; its inputs: {', '.join(aucs)}. Fix the name or drop it"
        )
    refused = refusals(aucs, allowed)
    inputs = arrival_inputs(fields, frozenset(r.field for r in refused))
    model = ConversionModel.train(train, train["converted"], inputs, name)
    seconds = time.perf_counter() - started
    p = model.probability(held)
    model.reference = np.sort(p)
    scored = figures(y[test], p)
    shown = _baselines(dense, held, y, test, aucs, {r.field for r in refused}, rulebook, local)
    now = figures(y[test], current.probability(held)) if current is not None else None
    incumbent = now if now is not None else shown.get("local_model")
    kept = incumbent is None or scored["auc"] > incumbent["auc"]
    verdict = (
        f"kept: out-of-time AUC {scored['auc']:.3f} beats the current model's {incumbent['auc']:.3f}"
        if kept and incumbent
        else "kept: no current model to beat"
        if kept
        else f"not kept: out-of-time AUC {scored['auc']:.3f} does not beat the current model's {incumbent['auc']:.3f}"
    )
    counts |= {"train": int((~test).sum()), "test": int(test.sum()), "converted": int(y.sum())}
    proof = Proof(
        counts, scored, shown, now, lift_by_decile(y[test], p), calibration(y[test], p), aucs, refused,
        [f for f in later_fields(fields) if f in frame], suspects(aucs, allowed), kept, verdict, seconds,
    )  # fmt: skip
    return proof, model


def _baselines(
    dense: pd.DataFrame,
    held: pd.DataFrame,
    y: np.ndarray,
    test: np.ndarray,
    aucs: dict[str, float],
    refused: set[str],
    rulebook: Rulebook | None,
    local: LocalModel | None,
) -> dict[str, dict[str, object]]:
    """The baselines' figures on the newest leads (dense: every arrival input of all labelled leads)."""
    out: dict[str, dict[str, object]] = {}
    if rulebook is not None:
        out["rulebook"] = figures(y[test], baselines.rulebook_score(held, rulebook))
    if local is not None:
        out["local_model"] = figures(y[test], baselines.local_model_score(held, local))
    best = next((f for f in aucs if f not in refused), None)
    if best is not None:
        score = baselines.single_field_score(dense[best][~test], y[~test], dense[best][test])
        out["best_field"] = {"field": best, **figures(y[test], score)}
    return out
