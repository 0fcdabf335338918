"""`leadrouter model`: which local model routes, and retraining it from routed history."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from commands.console import console, fail
from leadrouter import clock
from leadrouter.classify import catalog
from leadrouter.classify.catalog import Prices
from leadrouter.config import Settings
from leadrouter.inert import terminal

model_app = typer.Typer(help="The local model: see which one routes, retrain it from routed history.")


@model_app.command("info")
def model_info() -> None:
    """The local model the router uses now: what it was trained on, when, and its held-out figures."""
    from leadrouter.classify.card import describe
    from leadrouter.classify.local import default_model, trained_path

    settings = Settings()
    model = default_model(settings.model_dir)
    retrained = trained_path(settings.model_dir)
    origin = f"retrained ({retrained})" if retrained.exists() else "the shipped default (synthetic history)"
    for line in describe(model.name, model.card, origin):
        console.print(terminal(line, urls=True))
    if settings.model == "claude":  # Claude asks first; the local model above answers what it leaves
        for line in catalog.describe(*claude_settings(settings.claude_block)):
            console.print(terminal(line, urls=True))
    console.print("threshold and review SLA are in the rulebook")


def claude_settings(block: str | None) -> tuple[str, Prices | None]:
    """The model id and prices of the configured ClaudeConnection block (the default model, table prices, when
    it cannot be read)."""
    if not block:
        return catalog.DEFAULT_MODEL, None
    try:
        from blocks.claude import ClaudeConnection

        loaded = ClaudeConnection.load(block)
    # no Prefect server or no such block: the table still says what the default model costs
    except Exception as exc:
        console.print(
            f"could not read the Claude block {block!r} ({type(exc).__name__}): showing the default model"
        )
        return catalog.DEFAULT_MODEL, None
    return loaded.model, loaded.prices


@model_app.command("train")
def model_train(
    source: Annotated[str | None, typer.Option(help="Ledger source (default: the configured CRM)")] = None,
    synthetic: Annotated[int, typer.Option(help="Generated labelled leads mixed in (0: none)")] = 20_000,
    min_labels: Annotated[int, typer.Option(help="Refuse to train on fewer routed leads")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Retrain from what rules and reviewers decided, corrected by what the deals became once the outcome loop
    has run (leads re-read from the CRM), plus synthetic history; keeps the new model only if it is at least
    as accurate on held-out routed leads."""
    from commands.leads import configured_crm
    from leadrouter.classify.training import TooFewLabels, retrain_configured
    from leadrouter.store import open_store

    settings = Settings()
    source = source or settings.crm
    with open_store(settings.store_url) as store:
        try:
            summary = retrain_configured(
                store, settings, configured_crm(settings), source, clock.routing_now(settings),
                synthetic=synthetic, min_labels=min_labels,
            )  # fmt: skip
        except TooFewLabels as exc:
            fail(str(exc))
    if as_json:
        print(json.dumps(summary))
        return
    verdict = (
        "saved: the router uses it from the next run"
        if summary["kept"]
        else "not saved: the current model is better"
    )
    console.print(
        f"trained on {summary['labels']} routed ({summary['outcome_labels']} labelled by their outcome) + "
        f"{summary['synthetic']} synthetic leads; held-out tier accuracy {summary['holdout_accuracy']:.1%} "
        f"(current model {summary['previous_accuracy']:.1%}); {verdict}"
    )


@model_app.command("reset")
def model_reset() -> None:
    """Go back to the shipped default model."""
    from leadrouter.classify.local import trained_path

    trained_path(Settings().model_dir).unlink(missing_ok=True)
    console.print("the router uses the shipped default model from the next run")
