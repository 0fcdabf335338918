"""What a warm worker keeps between runs: a parsed file until it changes, the CRM's owners for a while."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from leadrouter import warm
from leadrouter.assign.roster import load_roster
from leadrouter.config import PROJECT_ROOT, ConfigError, Settings
from leadrouter.router import routing_roster
from leadrouter.sandbox.crm import SandboxCRM


@pytest.fixture
def roster_file(tmp_path: Path) -> Path:
    path = tmp_path / "roster.yaml"
    shutil.copy(PROJECT_ROOT / "config" / "roster.yaml", path)
    return path


def test_an_unchanged_file_is_parsed_once(roster_file: Path) -> None:
    calls: list[Path] = []

    def load(path: Path) -> object:
        calls.append(path)
        return load_roster(path)

    first = warm.load_file("roster", roster_file, load)
    again = warm.load_file("roster", roster_file, load)
    assert again is first
    assert len(calls) == 1


def test_a_changed_file_is_read_again_on_the_next_run(roster_file: Path) -> None:
    first = warm.load_file("roster", roster_file, load_roster)
    text = roster_file.read_text()
    # the same size and a restored mtime would fool a cache keyed on the stamp alone: change the bytes' count
    roster_file.write_text(text.replace("escalation:", "escalation:  ", 1))
    os.utime(roster_file, ns=(0, roster_file.stat().st_mtime_ns + 1_000_000))
    second = warm.load_file("roster", roster_file, load_roster)
    assert second is not first
    assert second.model_dump() == first.model_dump()  # the same roster, parsed anew


def test_an_edit_within_one_mtime_tick_and_of_the_same_size_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "value.txt"
    path.write_text("a")
    stat = path.stat()
    assert warm.load_file("text", path, Path.read_text) == "a"
    path.write_text("b")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same stamp the first read saw
    assert (path.stat().st_mtime_ns, path.stat().st_size) == (stat.st_mtime_ns, stat.st_size)
    assert warm.load_file("text", path, Path.read_text) == "b"


def test_a_broken_file_is_not_kept_and_fails_every_run(roster_file: Path) -> None:
    roster_file.write_text("reps: [")
    for _ in range(2):
        with pytest.raises(ConfigError, match="invalid YAML"):
            warm.load_file("roster", roster_file, load_roster)


def test_the_same_path_for_another_kind_is_parsed_apart(tmp_path: Path) -> None:
    path = tmp_path / "value.txt"
    path.write_text("abc")
    assert warm.load_file("text", path, Path.read_text) == "abc"
    assert warm.load_file("size", path, lambda p: len(p.read_text())) == 3


def test_owners_are_kept_until_they_expire() -> None:
    fetched: list[int] = []

    def fetch() -> pd.DataFrame:
        fetched.append(1)
        return pd.DataFrame({"owner_id": [f"u{len(fetched)}"], "email": ["a@example.com"]})

    assert warm.owners("crm-a", fetch, ttl_s=60)["owner_id"].tolist() == ["u1"]
    assert warm.owners("crm-a", fetch, ttl_s=60)["owner_id"].tolist() == ["u1"]
    assert len(fetched) == 1
    assert warm.owners("crm-a", fetch, ttl_s=0)["owner_id"].tolist() == ["u2"]  # expired: fetched again
    assert warm.owners("crm-b", fetch, ttl_s=60)["owner_id"].tolist() == ["u3"]  # another CRM, its own
    assert len(fetched) == 3


def test_forgotten_owners_are_fetched_again() -> None:
    fetched: list[int] = []

    def fetch() -> pd.DataFrame:
        fetched.append(1)
        return pd.DataFrame({"owner_id": [f"u{len(fetched)}"]})

    warm.owners("crm-a", fetch)
    warm.forget_owners("crm-a")
    assert warm.owners("crm-a", fetch)["owner_id"].tolist() == ["u2"]


def test_the_routing_roster_asks_the_crm_for_owners_once_per_ttl(tmp_path: Path) -> None:
    roster = tmp_path / "roster.yaml"
    # reps named by email alone: their ids come from the CRM's owners
    text = (PROJECT_ROOT / "config" / "roster.yaml").read_text()
    ids = re.findall(r'- \{id: "(005\d+)", name: [^,]+, email: ([^,]+),', text)
    assert len(ids) >= 4
    for rep_id, email in ids:  # every mention of the rep by id becomes its email
        text = text.replace(f'id: "{rep_id}", ', "").replace(f'"{rep_id}"', email).replace(rep_id, email)
    roster.write_text(text)
    settings = Settings(roster_path=roster, sandbox_path=tmp_path / "crm.db")
    calls: list[int] = []

    class Users:
        def fetch_owners(self) -> pd.DataFrame:
            calls.append(1)
            return pd.DataFrame(
                {"owner_id": [i for i, _ in ids], "email": [e for _, e in ids], "name": "x", "active": True}
            )

        def inactive_owners(self) -> pd.DataFrame:  # deactivated users: their leads can still be found
            return pd.DataFrame(columns=["owner_id", "email", "name", "active"])

    first = routing_roster(settings, Users)
    second = routing_roster(settings, Users)
    assert len(calls) == 1
    by_email = {e: i for i, e in ids}
    assert {r.email: r.id for r in first.reps if r.email in by_email} == by_email
    assert second.model_dump() == first.model_dump()


def test_a_changed_fields_file_parses_the_roster_again(
    roster_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = tmp_path / "fields.yaml"
    shutil.copy(PROJECT_ROOT / "config" / "fields.yaml", fields)
    monkeypatch.setenv("LEADROUTER_FIELDS_PATH", str(fields))
    settings = Settings(roster_path=roster_file)

    def no_crm() -> None:
        raise AssertionError("the shipped roster names every rep by id: no CRM call")

    first = routing_roster(settings, no_crm)
    assert routing_roster(settings, no_crm) is first
    fields.write_text(fields.read_text() + "\n# edited\n")
    assert routing_roster(settings, no_crm) is not first


def test_a_preloaded_worker_parses_no_file_on_its_first_run(
    roster_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadrouter import router

    store = f"sqlite:///{tmp_path}/ledger.db"
    settings = Settings(roster_path=roster_file, sandbox_path=tmp_path / "crm.db", store_url=store)
    router.preload(settings)
    parsed: list[str] = []
    for name in ("load_rulebook", "load_roster", "load_territories"):
        monkeypatch.setattr(router, name, lambda path, name=name: parsed.append(name))
    opened = router.open_router(settings, crm=SandboxCRM.create(tmp_path / "crm.db", seed=1, leads=10))
    assert parsed == [] and opened.roster.reps and opened.rulebook.rules
    opened.store.dispose()


def test_a_broken_file_fails_the_run_that_reads_it_not_the_worker_start(
    roster_file: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadrouter.pipeline import warm_up

    roster_file.write_text("pools: [")
    monkeypatch.setenv("LEADROUTER_ROSTER_PATH", str(roster_file))
    warm_up()
    assert f"routing config not preloaded: {roster_file}" in caplog.text
    with pytest.raises(ConfigError, match=re.escape(str(roster_file))):
        warm.load_file("roster", roster_file, load_roster)
