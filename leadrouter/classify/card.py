"""What a local model was trained on, when, and how it did on leads held out: kept with the model file, read by
`leadrouter model info`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd


@dataclass(frozen=True)
class ModelCard:
    trained_at: datetime
    routed: int  # labelled routed leads learnt from
    synthetic: int  # generated labelled leads mixed in
    label_sources: dict[str, int] = field(
        default_factory=dict
    )  # rule | review | outcome | synthetic -> leads
    source: str | None = None  # the ledger source the routed leads came from
    held_out: int = 0  # routed leads kept out of training to measure it
    holdout_accuracy: float | None = None  # tier accuracy on them
    previous_accuracy: float | None = None  # the model it replaced, on the same leads
    out_of_time: dict | None = (
        None  # a conversion model's proof on the newest leads (auc, vip_precision, ...)
    )


def label_counts(sources: pd.Series) -> dict[str, int]:
    """Leads per label source, most first."""
    counts = sources.astype("string").fillna("unknown").value_counts(sort=False)
    return {str(k): int(n) for k, n in counts.sort_values(ascending=False, kind="stable").items()}


def describe(name: str, card: ModelCard | None, origin: str) -> list[str]:
    """The card as lines a person reads (our words around counts and dates; the caller escapes for its output)."""
    lines = [f"{name}: {origin}"]
    if card is None:
        return [
            *lines,
            "trained on: not recorded (a model saved before models kept a card)",
        ]
    parts = (
        [f"{card.routed:,} routed leads" + (f" from {card.source}" if card.source else "")]
        if card.routed
        else []
    )
    if card.synthetic:
        parts.append(f"{card.synthetic:,} generated (synthetic) leads")
    sources = ", ".join(f"{n:,} {label}" for label, n in card.label_sources.items())
    lines += [
        f"trained on: {' + '.join(parts)}" + (f"; labels: {sources}" if sources else ""),
        f"trained at: {card.trained_at:%Y-%m-%d %H:%M} UTC",
    ]
    if card.out_of_time is not None:
        figures = card.out_of_time
        return [
            *lines,
            f"out of time: {card.held_out:,} newest leads held out; ROC AUC {figures['auc']:.3f}, precision "
            f"{figures['vip_precision']:.1%} and recall {figures['vip_recall']:.1%} at the VIP cut",
        ]
    if not card.held_out or card.holdout_accuracy is None:
        why = (
            "no routed leads to hold out"
            if not card.routed
            else f"too few routed leads ({card.routed}) to hold out"
        )
        return [
            *lines,
            f"held-out figures: none ({why}); `leadrouter model train` measures them on routed leads",
        ]
    previous = (
        f"; the model it replaced: {card.previous_accuracy:.1%}" if card.previous_accuracy is not None else ""
    )
    return [
        *lines,
        f"held out: {card.held_out:,} routed leads; tier accuracy {card.holdout_accuracy:.1%}{previous}",
    ]
