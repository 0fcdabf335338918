"""`leadrouter model`: which local model routes, and retraining it from routed history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from commands.console import console, fail
from leadrouter import clock
from leadrouter.classify import catalog
from leadrouter.classify.catalog import Prices
from leadrouter.config import Settings
from leadrouter.inert import terminal

if TYPE_CHECKING:
    from leadrouter.classify.conversion.exports import HistoryOptions

model_app = typer.Typer(
    help="The local model: see which one routes, retrain it from routed history or learn from CRM exports."
)


@model_app.command("info")
def model_info() -> None:
    """The local model the router uses now: what it was trained on, when, and its held-out figures."""
    from leadrouter.classify.card import describe
    from leadrouter.classify.local_cache import default_model, trained_path

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
    history: Annotated[
        Path | None, typer.Option(help="A leads export to learn conversion from (with --deals and --map)")
    ] = None,
    deals: Annotated[Path | None, typer.Option(help="The deals export: what the leads became")] = None,
    map_path: Annotated[Path | None, typer.Option("--map", help="The exports' column map")] = None,
    fields: Annotated[Path | None, typer.Option(help="The fields file (default: configured)")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the proof here (default: <model dir>/proof)")
    ] = None,
    vip_share: Annotated[
        float | None,
        typer.Option(
            help="VIP in hindsight: the top share of won deals (default: LEADROUTER_HINDSIGHT_VIP_SHARE)"
        ),
    ] = None,
    vip_amount: Annotated[
        float | None,
        typer.Option(
            help="VIP in hindsight: at least this amount (default: LEADROUTER_HINDSIGHT_VIP_AMOUNT)"
        ),
    ] = None,
    test_share: Annotated[float, typer.Option(help="The newest share of leads held out")] = 0.25,
    allow_field: Annotated[
        list[str] | None,
        typer.Option(
            help="A field suspected of leaking (AUC 0.90-0.95 alone) that you confirm is known at arrival: "
            "use it (repeatable; adds to LEADROUTER_ALLOW_FIELDS)"
        ),
    ] = None,
) -> None:
    """Retrain from what rules and reviewers decided, corrected by what the deals became once the outcome loop
    has run (leads re-read from the CRM), plus synthetic history; keeps the new model only if it is at least
    as accurate on held-out routed leads. With --history: learn the chance of an opportunity within 90 days
    from two CRM exports, proven on the newest leads beside the rulebook, the local model and the best single
    field; kept only if it beats the current model there."""
    if history is not None:
        from leadrouter.classify.conversion.exports import HistoryOptions

        options = HistoryOptions(fields, vip_share, vip_amount, test_share, tuple(allow_field or []), out)
        _train_from_history(history, deals, map_path, options, as_json)
        return
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
    if "skipped" in summary:
        console.print(f"local model not retrained: {summary['skipped']}")
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


def _train_from_history(
    history: Path, deals: Path | None, map_path: Path | None, options: HistoryOptions, as_json: bool
) -> None:
    from leadrouter.classify.conversion.exports import train_configured
    from leadrouter.classify.conversion.proof import TooLittleHistory
    from leadrouter.config import ConfigError

    if deals is None or map_path is None:
        fail("--history needs --deals (what the leads became) and --map (the exports' column map)", code=2)
    try:
        proof, written = train_configured(history, deals, map_path, Settings(), options)
    except (ConfigError, ValueError) as exc:
        code = 1 if isinstance(exc, TooLittleHistory) else 2
        fail(f"{exc}" + ("; the current model stays" if code == 1 else ""), code=code)
    if as_json:
        print(json.dumps(proof.summary(), default=str))
        return
    _print_proof(proof)
    console.print(f"proof written to {terminal(str(written[0].parent), urls=True)}")


def _print_proof(proof) -> None:
    from rich.table import Table

    leads = proof.leads
    console.print(
        f"{leads['given']:,} leads: {leads['train']:,} older to train on, {leads['test']:,} newest held out "
        f"({leads['converted']:,} converted within 90 days; left out: {leads['undated']:,} undated deals, "
        f"{leads['immature']:,} younger than 90 days)"
    )
    table = Table(title="out of time: the newest leads")
    for name in ("score", "ROC AUC", "VIP precision", "VIP recall"):
        table.add_column(name)
    rows = {"conversion model": proof.model, **proof.baselines}
    if proof.current is not None:
        rows["current conversion model"] = proof.current
    for name, figures in rows.items():
        label = f"best field ({figures['field']})" if "field" in figures else name.replace("_", " ")
        table.add_row(terminal(label), f"{figures['auc']:.3f}", f"{figures['vip_precision']:.1%}",
                      f"{figures['vip_recall']:.1%}")  # fmt: skip
    console.print(table)
    for refusal in proof.refused:
        console.print(f"[yellow]refused[/yellow] {terminal(refusal.why)}")
    for why in proof.suspected.values():
        console.print(f"[yellow]check[/yellow] {terminal(why)}")
    if proof.later:
        console.print(f"known only later, never read: {terminal(', '.join(proof.later))}")
    lift = Table(title="lift by decile (1: highest scores)")
    for column in proof.lift.columns:
        lift.add_column(str(column))
    for row in proof.lift.itertuples(index=False):
        lift.add_row(*(f"{v:g}" for v in row))
    console.print(lift)
    console.print(terminal(proof.verdict))


@model_app.command("reset")
def model_reset() -> None:
    """Go back to the shipped default model."""
    from leadrouter.classify.local_cache import trained_path

    trained_path(Settings().model_dir).unlink(missing_ok=True)
    console.print("the router uses the shipped default model from the next run")
