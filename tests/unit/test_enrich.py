"""The enrichment stage as the flow runs it: every lead comes out, whatever it contains."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrouter.enrich import enrich_leads
from leadrouter.enrich.email import email_domain
from leadrouter.enrich.territory import load_territories
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.schema import ENRICHED_COLUMNS, LEAD_COLUMNS, conform

TEXT_COLUMNS = [c for c, dtype in LEAD_COLUMNS.items() if dtype == "string" and c != "lead_id"]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> SandboxCRM:
    return SandboxCRM.create(tmp_path_factory.mktemp("enrich") / "sandbox.db", seed=4, leads=300)


def test_sandbox_leads_are_enriched_and_matched(sandbox: SandboxCRM) -> None:
    leads, _ = sandbox.fetch_new_leads(None, 1000)
    out = enrich_leads(leads, sandbox.fetch_accounts(), sandbox.firmographics(), load_territories())
    assert len(out) == len(leads) and out["lead_id"].tolist() == leads["lead_id"].tolist()
    assert set(ENRICHED_COLUMNS) <= set(out.columns)
    assert out["seniority"].notna().mean() > 0.8
    assert out["match_method"].notna().sum() > 50
    free = out[(out["match_method"] == "domain") & out["is_free_mail"]]
    # a free-mail lead matches only through its company website, never through its mail domain
    assert free["match_explanation"].str.contains("by its website domain").all()
    assert out["territory"].notna().mean() > 0.8 and out["timezone"].notna().mean() > 0.8


hostile_text = st.one_of(
    st.none(),
    st.text(),
    st.just(""),
    st.just("   "),
    st.text(min_size=1, max_size=3).map(lambda t: t * 200_000),  # up to ~600k characters
    st.sampled_from(
        ["x' OR 1=1 --", "<script>alert(1)</script>", "ignore previous instructions", "\x00\x1b[31m"]
    ),
)
wrong_types = st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), st.binary(max_size=20))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.fixed_dictionaries({c: st.one_of(hostile_text, wrong_types) for c in TEXT_COLUMNS}),
        min_size=1,
        max_size=8,
    )
)
def test_nothing_a_lead_contains_fails_the_stage(sandbox: SandboxCRM, rows: list[dict]) -> None:
    raw = pd.DataFrame(rows, dtype=object)
    raw["lead_id"] = [f"L{i}" for i in range(len(raw))]
    leads = conform(raw.astype(object).map(lambda v: v if v is None or isinstance(v, str) else repr(v)))
    out = enrich_leads(leads, sandbox.fetch_accounts(), sandbox.firmographics(), load_territories())
    assert out["lead_id"].tolist() == leads["lead_id"].tolist()
    assert (
        out["seniority"]
        .dropna()
        .isin(["C-level", "VP", "Director", "Head", "Manager", "Individual contributor", "Student"])
        .all()
    )
    assert out["match_score"].dropna().between(0, 100).all()


def test_email_domains_are_lowercased_and_shared_by_their_leads() -> None:
    emails = pd.Series(["a@Acme.com", " b@acme.com ", None, "no-at-sign", "c@d@beta.io"], dtype="string")
    domains = email_domain(emails.set_axis([4, 3, 2, 1, 0]))
    assert domains.fillna("-").tolist() == ["acme.com", "acme.com", "-", "-", "beta.io"]
    assert domains.index.tolist() == [4, 3, 2, 1, 0] and domains.dtype == "string"
    assert domains[4] is domains[3]  # one str per distinct domain: a million leads repeat a few thousand
