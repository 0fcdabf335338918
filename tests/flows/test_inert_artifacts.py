"""Hostile leads through a real route-inbound run, then every artifact page of the run rendered by the Prefect
UI in headless Chromium: no <a> or <img> on a page comes from lead text, and the text itself shows, defanged."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from leadrouter.sandbox.crm import SandboxCRM
from tests.helpers.browser import assert_real_screenshot, prefect_ui, render
from tests.helpers.clock import WORKDAY

ROOT = Path(__file__).parents[2]
SHOTS = ROOT / "var" / "test-artifacts"  # git-ignored: the screenshots for a person to look at
LEADS = 24
LINK = "[click](javascript:alert(1)) http://evil.example/login"
# lead position -> fields overwritten with what an attacker could type into a web form
HOSTILE: dict[int, dict[str, str]] = {
    0: {"email": LINK},  # quarantined: an invalid email address
    1: {"email": "![pixel](https://evil.example/p.png)"},
    2: {
        "email": '<a href="https://evil.example">x</a>@evil.example',
        "company": "<img src=x onerror=alert(1)>",
    },
    3: {
        "email": "<!channel> <@U123>",
        "first_name": "\x1b[31m\u202eAnn",
        "phone": "[call](https://evil.example)",
    },
    4: {"phone": "<https://evil.example/tel> www.evil.example", "title": "[VP](http://evil.example) " * 40},
}
MARKERS = ("evil", "javascript", "alert", "pixel", "mailto", "channel", "call")


class Elements(HTMLParser):
    """Every <a> and <img> of a page (tag, attributes, text inside), and the page's text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[dict[str, str]] = []
        self.open: list[dict[str, str]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "img"):
            element = {"tag": tag, **{k: v or "" for k, v in attrs}, "text": ""}
            self.found.append(element)
            self.open += [element] if tag == "a" else []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for element in self.open:
            element["text"] += data

    def from_leads(self) -> list[dict[str, str]]:
        """Links and images whose target, alt or text carries lead text, or that the markdown renderer made."""
        return [
            e
            for e in self.found
            if "markdown-renderer" in e.get("class", "")
            or any(m in " ".join(e.values()).lower() for m in MARKERS)
            or not e.get("href", "/").startswith("/")  # the UI's own links are its routes
        ]


@pytest.fixture
def hostile_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SandboxCRM:
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=5, leads=LEADS)
    with crm._db() as db:  # the generator writes clean leads; these are what a web form lets anyone type
        ids = [row[0] for row in db.execute("SELECT id FROM leads ORDER BY id")]
        for position, values in HOSTILE.items():
            sets = ", ".join(f"{field} = ?" for field in values)
            db.execute(f"UPDATE leads SET {sets} WHERE id = ?", [*values.values(), ids[position]])
    monkeypatch.setenv("LEADROUTER_STORE_URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setenv("LEADROUTER_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
    return crm


@pytest.mark.usefixtures("prefect_server")
def test_no_link_or_image_on_an_artifact_page_comes_from_lead_text(
    hostile_sandbox: SandboxCRM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect import flow
    from prefect.artifacts import create_table_artifact
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.settings import PREFECT_API_URL

    from flows.route_inbound import route_inbound
    from flows.sla_watch import sla_watch
    from leadrouter.sla import watch_line

    state = route_inbound(return_state=True)
    summary = state.result()
    assert summary["leads"] == LEADS and summary["quarantined"] >= 4

    # a control: the same kind of table with the raw value, as the router published it before, shows links
    @flow(name="raw-lead-text-control")
    def publish_raw() -> object:
        return create_table_artifact([{"lead": "00Q0", "value": LINK}])

    control = publish_raw()
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        )
    artifacts = {a.key: a for a in found}
    assert set(artifacts) == {"routing-summary", "quarantined-leads", "validation-report"}

    rows = json.loads(artifacts["quarantined-leads"].data)
    assert list(rows[0]) == ["severity", "lead", "check", "field", "value", "fix"]
    severities = [row["severity"] for row in rows]
    assert severities == sorted(severities) and {"blocking", "warning"} <= set(severities)  # blocking first
    assert len({row["lead"] for row in rows if row["severity"] == "blocking"}) == summary["quarantined"]
    shown_link = "'\\[click\\]\\(javascript\\[:\\]alert\\(1\\)\\) hxxp://evil\\[.\\]example/login'"
    assert any(row["check"] == "email_format" and row["value"] == shown_link for row in rows)

    # two hours on, nobody touched a lead: sla-watch re-routes the lapsed ones and names its run by its counts
    monkeypatch.setenv("LEADROUTER_ROUTING_CLOCK", (WORKDAY + timedelta(hours=2)).isoformat())
    watch = sla_watch(return_state=True)
    counts = watch.result()
    assert counts["breached"] >= 1 and watch.message == watch_line(counts)
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(watch.state_details.flow_run_id).name == watch_line(counts)
        (actions,) = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[watch.state_details.flow_run_id]))
        )
    assert actions.key == "sla-watch-actions"
    artifacts["sla-watch-actions"] = actions
    table_rows = [line for line in actions.data.splitlines() if line.startswith("| breach |")]
    assert len(table_rows) == counts["breached"]

    pages = {key: f"artifacts/artifact/{a.id}" for key, a in artifacts.items()}
    pages["raw-lead-text-control"] = f"artifacts/artifact/{control}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shots = [SHOTS / f"inert-{key}.png" for key in pages]
    with prefect_ui(PREFECT_API_URL.value()) as ui, ThreadPoolExecutor(2) as pool:
        urls = [f"{ui}/{path}" for path in pages.values()]
        profiles = [tmp_path / f"chromium-{i}" for i in range(len(pages))]
        shows = {"routing-summary": ("Routing summary",), "sla-watch-actions": ("SLA watch", "breach")}
        awaited = [shows.get(key, ("evil",)) for key in pages]
        doms = dict(zip(pages, pool.map(render, urls, shots, profiles, awaited), strict=True))
    for png in shots:
        assert_real_screenshot(png)
        print(f"screenshot kept: {png}")
    parsed = {key: Elements(dom) for key, dom in doms.items()}

    hrefs = {e.get("href") for e in parsed["raw-lead-text-control"].from_leads()}
    assert {"javascript:alert(1)", "http://evil.example/login"} <= hrefs  # the check sees a live link
    for key in artifacts:
        assert parsed[key].from_leads() == [], key
    text = {key: " ".join(page.text) for key, page in parsed.items()}
    assert "Routing summary" in text["routing-summary"]
    assert f"{counts['breached']} breached and" in text["sla-watch-actions"]
    # the lead text is on the pages, as text: defanged, cut, every character it had shown
    assert "'[click](javascript[:]alert(1)) hxxp://evil[.]example/login'" in text["quarantined-leads"]
    assert "![pixel](hxxps://evil[.]example/p[.]png)" in text["quarantined-leads"]
    assert "hxxp://evil[.]example/login" in text["validation-report"]
    for key in artifacts:
        assert "\u202e" not in doms[key] and "\x1b" not in doms[key]
