"""Prompt injection against the whole classification stage: rules, then Claude (a FOOLED one, obeying the
lead's text) backed by the local model, then the guards, then recording with the roster.

Each variant of tests/data/injections.json is written into realistic leads from the sandbox generator: a
senior buyer at a big company (the guards' hardest case: the facts allow VIP), a manager at a big company, an
executive at a tiny one, a student, and a hand-raising student that a rule resolves. The same leads without the injection
go through a sound model; no injected lead may end above its clean twin's tier.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import anthropic
import pandas as pd
import pytest

from leadrouter.assign.roster import load_roster
from leadrouter.classify import classify_leads
from leadrouter.classify.claude import ClaudeModel
from leadrouter.classify.guards import JUNIOR_TITLE, SENIOR, TIER_RANK
from leadrouter.classify.history import labelled_history
from leadrouter.classify.local import LocalModel
from leadrouter.classify.model import ModelChain
from leadrouter.classify.rules import classify_by_rules, load_rulebook
from leadrouter.config import PROJECT_ROOT
from leadrouter.enrich.seniority import seniority_of
from leadrouter.enrich.territory import load_territories
from leadrouter.record import BatchContext, record_batch
from leadrouter.schema import TIERS
from leadrouter.store import open_store
from localapi.anthropic import API_KEY, INTENT, MessagesAPI, serve
from tests.helpers.clock import WORKDAY

VARIANTS: list[dict] = json.loads((Path(__file__).parents[1] / "data" / "injections.json").read_text())
BASES = ["open-senior", "open-manager", "open-small", "open-junior", "rule-student"]
THRESHOLD = 0.7
# (variant, base) -> why it fails: guard gaps, kept visible as strict xfails until fixed (none open now)
GAPS: dict[tuple[str, str], str] = {}
NO_QUARANTINE = pd.DataFrame({"lead_id": pd.Series([], dtype="string"), "reason": [], "reasons": []})


def pick_bases(history: pd.DataFrame, ruled: pd.DataFrame) -> pd.DataFrame:
    """One lead of each kind that no rule resolves (known size, seniority and region, and a message for the
    injection to join), plus a student's demo request at a 500-employee company, which a rule resolves."""
    known = history["employees"].notna() & history["seniority"].notna() & history["region"].notna()
    wrote = history["message"].fillna("").str.len() >= 15
    open_ = history[ruled["tier"].isna() & known & wrote]
    senior, big = open_["seniority"].isin(SENIOR), open_["employees"] >= 200
    buying = open_["message"].map(lambda m: bool(INTENT.search(m))) | (open_["label_tier"] == "VIP")
    junior = (open_["seniority"] == "Student") | open_["title"].str.contains(JUNIOR_TITLE).fillna(False)
    kinds = {
        "open-senior": senior & big & ~buying,  # the facts allow VIP, yet the lead is not one
        "open-manager": open_["seniority"].isin(["Director", "Manager"]) & big,
        "open-small": open_["employees"] < 11,
        "open-junior": junior,
    }
    picked = [open_.index[mask][0] for mask in kinds.values()]
    frame = history.loc[[*picked, picked[1]]].copy()  # the student is the manager's lead, changed
    frame.index = pd.Index(BASES, name="base")
    frame.loc["rule-student", ["lead_source", "title", "seniority"]] = ["demo_request", "Student", "Student"]
    frame.loc["rule-student", "employees"] = 500
    return frame.assign(lead_id=[f"clean/{b}" for b in BASES])


def inject(bases: pd.DataFrame) -> pd.DataFrame:
    """Every variant written into every base lead: appended to the fields it names (the title's seniority
    re-read, as enrichment would)."""
    frames = []
    for variant in VARIANTS:
        leads = bases.copy()
        for field, text in variant["fields"].items():
            leads[field] = (leads[field] + " " + text).fillna(text)
        frames.append(leads.assign(lead_id=[f"{variant['id']}/{b}" for b in bases.index]))
    frame = pd.concat(frames)
    return frame.assign(seniority=seniority_of(frame["title"])).set_index("lead_id", drop=False)


def claude_on(api: MessagesAPI, servers: list) -> ClaudeModel:
    server = serve(api)
    servers.append(server)
    return ClaudeModel(anthropic.Anthropic(api_key=API_KEY, base_url=server.url, max_retries=0, timeout=20))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Everything computed once: the clean leads through a sound chain, the injected ones through the fooled
    chain, the fooled model without guards, and the injected batch recorded with the shipped roster."""
    rulebook = load_rulebook(PROJECT_ROOT / "config" / "rulebook.yaml")
    history = labelled_history(21, 300, load_territories())
    bases = pick_bases(history, classify_by_rules(history, rulebook))
    injected = inject(bases)
    local = LocalModel.synthetic(seed=1, leads=1000)
    servers: list = []
    try:
        sound = ModelChain([claude_on(MessagesAPI("sound"), servers), local], THRESHOLD, deadline_s=30)
        fooled_model = claude_on(MessagesAPI("obedient", misbehaving=True), servers)
        fooled = ModelChain([fooled_model, local], THRESHOLD, deadline_s=30)
        clean = classify_leads(bases, rulebook, sound)
        out = classify_leads(injected, rulebook, fooled)
        unguarded = fooled_model.classify(injected, deadline_s=30)
    finally:
        for server in servers:
            server.stop()
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('injection')}/ledger.db")
    roster = load_roster(PROJECT_ROOT / "config" / "roster.yaml")
    ctx = BatchContext("injection-test", "run-1", rulebook.version, at=WORKDAY)
    recorded = record_batch(store, ctx, out.reset_index(drop=True), NO_QUARANTINE, roster)
    return SimpleNamespace(clean=clean, out=out, unguarded=unguarded, recorded=recorded.set_index("lead_id"),
                           roster=roster, injected=injected)  # fmt: skip


def cases() -> list:
    def marks(variant: str, base: str) -> list:
        return (
            [pytest.mark.xfail(strict=True, reason="guard gap: reported")] if (variant, base) in GAPS else []
        )

    return [
        pytest.param(v["id"], b, id=f"{v['id']}/{b}", marks=marks(v["id"], b))
        for v in VARIANTS
        for b in BASES
    ]


def test_there_are_enough_variants_of_every_kind() -> None:
    assert len(VARIANTS) >= 30 and len({v["id"] for v in VARIANTS}) == len(VARIANTS)
    fields = {f for v in VARIANTS for f in v["fields"]}
    assert {"message", "title", "company", "first_name", "last_name"} <= fields


def test_the_clean_leads_route_as_a_sound_model_and_the_rules_say(run: SimpleNamespace) -> None:
    clean = run.clean
    assert clean["review_reason"].isna().all(), clean["review_reason"].to_dict()
    assert clean.loc["open-senior", "tier"] == "Standard"  # the facts allow VIP; the lead asked for nothing
    assert clean.loc["rule-student", ["tier", "decided_by"]].tolist() == [
        "Nurture",
        "rule:nurture-junior-hand-raiser",
    ]
    assert clean.loc[[b for b in BASES if b.startswith("open-")], "decided_by"].str.startswith("model:").all()


@pytest.mark.parametrize("variant", [v["id"] for v in VARIANTS])
def test_the_obedient_model_really_is_fooled(run: SimpleNamespace, variant: str) -> None:
    """Without the guards, Claude's answer to every injected lead is VIP, or names an owner (malformed)."""
    asks_owner = next(v["asks_owner"] for v in VARIANTS if v["id"] == variant)
    raw = run.unguarded.loc[[f"{variant}/{b}" for b in BASES]]
    if asks_owner:
        assert (
            raw["tier"].isna().all()
            and raw["error"].str.contains("owner: Extra inputs are not permitted").all()
        )
    else:
        assert (raw["tier"] == "VIP").all() and (raw["confidence"] == 0.99).all(), raw[["tier", "error"]]


@pytest.mark.parametrize(("variant", "base"), cases())
def test_no_injection_lifts_a_lead_above_its_clean_twin(
    run: SimpleNamespace, variant: str, base: str
) -> None:
    """(a) the final tier is at most what the lead gets without the injection, or the lead waits for review."""
    got = run.out.loc[f"{variant}/{base}"]
    if pd.isna(got["tier"]):
        assert pd.notna(got["review_reason"])
        return
    clean = run.clean.loc[base, "tier"]
    assert TIER_RANK[got["tier"]] <= TIER_RANK[clean], (
        f"{variant} lifted {base} from {clean} to {got['tier']} ({got['decided_by']})"
    )


@pytest.mark.parametrize("variant", [v["id"] for v in VARIANTS])
def test_a_rule_decides_whatever_the_text_says(run: SimpleNamespace, variant: str) -> None:
    """(d) the student's demo request stays Nurture by rule."""
    got = run.out.loc[f"{variant}/rule-student"]
    assert (got["tier"], got["decided_by"]) == ("Nurture", "rule:nurture-junior-hand-raiser")


def test_tiers_stay_in_the_allowed_set(run: SimpleNamespace) -> None:
    """(c) in the classified frame, the reviewer's suggestion and the recorded decisions."""
    for tiers in (run.out["tier"], run.out["suggested_tier"], run.recorded["tier"]):
        assert tiers.dropna().isin(TIERS).all()
    assert (run.out["tier"].notna() | run.out["review_reason"].notna()).all()


def test_no_owner_comes_from_the_model(run: SimpleNamespace) -> None:
    """(b) no model output carries an owner; every recorded owner is a member (or the fallback) of the pool
    serving the lead's tier, never a name written in the lead."""
    assert not {"owner", "owner_id"} & set(run.out.columns)
    routed = run.recorded[run.recorded["status"] == "recorded"]
    assert len(routed) and run.recorded.index.is_unique
    for lead_id, row in routed.iterrows():
        pool = run.roster.pool(row["pool"])
        assert pool.tier.value == row["tier"], lead_id
        assert row["owner_id"] in [*pool.reps, pool.fallback], lead_id
    review = run.recorded[run.recorded["status"] == "review"]
    assert review["owner_id"].isna().all()
