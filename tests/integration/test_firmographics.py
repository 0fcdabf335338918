import asyncio
import logging
import sqlite3

import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from leadrouter.enrich.firmographics import HttpProvider, TableProvider, enrich_firmographics
from leadrouter.sandbox.crm import SandboxCRM
from localapi.server import LocalServer

API_KEY = "sk-test-secret-123"
COMPANIES = {
    "acme.com": {"domain": "acme.com", "employees": 1200, "industry": "Manufacturing", "annual_revenue": 3e8},
    "globex.io": {"domain": "globex.io", "employees": 40, "industry": "Software", "annual_revenue": 5e6},
}


def leads(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["email_domain", "is_free_mail", "employees", "industry", "annual_revenue"]
    )
    return frame.astype(
        {
            "email_domain": "string",
            "is_free_mail": "boolean",
            "employees": "Int64",
            "industry": "string",
            "annual_revenue": "Float64",
        }
    )


SAMPLE = leads(
    [
        ("acme.com", False, None, None, None),  # filled from the provider
        ("acme.com", False, 50, None, None),  # the lead's own employee count wins
        ("gmail.com", True, None, None, None),  # free mail: never looked up
        ("unknown.org", False, None, None, None),  # the provider does not know it
        ("globex.io", False, 10, "Retail", 1.0),  # complete already: no lookup needed
    ]
)


def table_provider() -> TableProvider:
    return TableProvider(pd.DataFrame([*COMPANIES.values(), {"domain": "gmail.com", "employees": 9}]))


def test_table_provider_fills_gaps_and_lead_values_win() -> None:
    out = enrich_firmographics(SAMPLE, table_provider())
    assert out["employees"].tolist() == [1200, 50, pd.NA, pd.NA, 10]
    assert out["industry"].tolist() == ["Manufacturing", "Manufacturing", pd.NA, pd.NA, "Retail"]
    assert out["annual_revenue"].tolist() == [3e8, 3e8, pd.NA, pd.NA, 1.0]
    assert out["firmographics_source"].tolist() == ["provider", "provider", pd.NA, pd.NA, "lead"]
    assert not out["enrichment_failed"].any()
    assert str(out["employees"].dtype) == "Int64" and str(out["enrichment_failed"].dtype) == "boolean"


def test_table_provider_reads_the_sandbox(tmp_path) -> None:
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=3)
    with sqlite3.connect(crm.path) as db:
        db.execute("UPDATE accounts SET employees = 1200, industry = 'Manufacturing', annual_revenue = 3e8 "
                   "WHERE id = '001000000000001'")  # fmt: skip
        db.execute("UPDATE accounts SET domain = 'acme.com' WHERE id = '001000000000001'")
    found = crm.firmographics().lookup(["ACME.com", "nope.com"])
    assert found.to_dict("records") == [
        {"domain": "acme.com", "employees": 1200, "industry": "Manufacturing", "annual_revenue": 3e8}
    ]


class Api:
    """A firmographics API that records each request and can be made slow or broken."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str | None]] = []
        self.delay_s = 0.0
        self.status = 200

    async def companies(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.calls.append((body["domains"], request.headers.get("authorization")))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.status != 200:
            return JSONResponse({"error": "boom"}, status_code=self.status)
        return JSONResponse({"companies": [COMPANIES[d] for d in body["domains"] if d in COMPANIES]})


@pytest.fixture
def api():
    fake = Api()
    with LocalServer(Starlette(routes=[Route("/companies", fake.companies, methods=["POST"])])) as server:
        fake.url = f"{server.url}/companies"
        yield fake


def test_http_provider_batches_and_caches(api) -> None:
    provider = HttpProvider(api.url, api_key=API_KEY, batch_size=2)
    out = enrich_firmographics(SAMPLE, provider)
    assert out["employees"].tolist() == [1200, 50, pd.NA, pd.NA, 10]
    assert [domains for domains, _ in api.calls] == [["acme.com", "unknown.org"]]
    assert api.calls[0][1] == f"Bearer {API_KEY}"

    many = [f"d{i}.com" for i in range(5)] + ["globex.io"]
    assert provider.lookup(many)["domain"].tolist() == ["globex.io"]
    assert [len(domains) for domains, _ in api.calls[1:]] == [2, 2, 2]

    before = len(api.calls)
    again = enrich_firmographics(SAMPLE, provider)  # hits and remembered misses both come from the cache
    assert len(api.calls) == before
    pd.testing.assert_frame_equal(again, out)


def test_http_provider_cache_expires(api) -> None:
    provider = HttpProvider(api.url, cache_ttl_s=0)
    provider.lookup(["acme.com"])
    provider.lookup(["acme.com"])
    assert len(api.calls) == 2 and api.calls[0][1] is None


@pytest.mark.parametrize("fault", ["slow", "error"])
def test_provider_failure_marks_leads_and_keeps_the_batch(api, fault, caplog) -> None:
    if fault == "slow":
        api.delay_s = 1.0
    else:
        api.status = 500
    provider = HttpProvider(api.url, api_key=API_KEY, timeout_s=0.2)
    with caplog.at_level(logging.WARNING, logger="leadrouter.enrich.firmographics"):
        out = enrich_firmographics(SAMPLE, provider)
    assert out["enrichment_failed"].tolist() == [True, True, False, True, False]
    assert out["employees"].tolist() == [pd.NA, 50, pd.NA, pd.NA, 10]  # lead values survive
    assert out["firmographics_source"].tolist() == [pd.NA, "lead", pd.NA, pd.NA, "lead"]
    assert ("Timeout" if fault == "slow" else "500") in caplog.text
    assert API_KEY not in caplog.text and "acme.com" not in caplog.text


def test_api_key_never_in_the_error(api) -> None:
    api.status = 500
    provider = HttpProvider(f"{api.url}?note={API_KEY}", api_key=API_KEY)
    with pytest.raises(Exception) as raised:
        provider.lookup(["acme.com"])
    assert API_KEY not in str(raised.value) and API_KEY not in repr(provider)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_broken_provider_never_fails_the_batch() -> None:
    class Broken:
        def lookup(self, domains):
            raise RuntimeError("secret lead text")

    out = enrich_firmographics(SAMPLE, Broken())
    assert out["enrichment_failed"].sum() == 3
