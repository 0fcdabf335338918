"""The sandbox CRM's owner write: the same leads changed and the same owner writes as its old form."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrouter.crm.base import WRITE_RESULT_COLUMNS
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.edits import stamp

NOW = pd.Timestamp("2026-11-25 16:00", tz="UTC")


def _write_assignments_before(crm: SandboxCRM, frame: pd.DataFrame) -> pd.DataFrame:
    """SandboxCRM.write_assignments as it was before it read the frame's columns as lists: the reference."""
    written_at = stamp(pd.Timestamp.now(tz="UTC"))
    rows = list(
        zip(
            frame["owner_id"],
            frame["tier"],
            frame["routing_reason"],
            [written_at] * len(frame),
            frame["lead_id"],
            strict=True,
        )
    )
    with crm._db() as db:
        db.executemany(
            "UPDATE leads SET owner_id = ?, lead_tier = ?, routing_reason = ?, modified_at = ?, "
            "status = 'Assigned' WHERE id = ? AND is_deleted = 0",
            rows,
        )
        live = pd.read_sql_query(
            "SELECT id FROM leads WHERE is_deleted = 0 AND modified_at = ?", db, params=(written_at,)
        )["id"]
        ok = frame["lead_id"].isin(set(live))
        db.executemany(
            "INSERT INTO owner_writes (lead_id, owner_id, written_at) VALUES (?, ?, ?)",
            [
                (lid, own, written_at)
                for lid, own in zip(frame["lead_id"][ok], frame["owner_id"][ok], strict=True)
            ],
        )
    result = pd.DataFrame({"lead_id": frame["lead_id"].to_numpy(), "ok": ok.to_numpy()})
    result["retry"] = False
    result["error"] = pd.Series(
        np.where(ok, None, "ENTITY_IS_DELETED: the lead no longer exists"), dtype="string"
    )
    return result[WRITE_RESULT_COLUMNS]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    crm = SandboxCRM.create(tmp_path_factory.mktemp("write") / "sandbox.db", seed=3, leads=30, now=NOW)
    # closed, not left to the collector: the tests copy the file, and an open connection's write may still be
    # in the WAL beside it
    with contextlib.closing(sqlite3.connect(crm.path)) as db, db:
        ids = [i for (i,) in db.execute("SELECT id FROM leads ORDER BY id")]
        db.execute("UPDATE leads SET is_deleted = 1 WHERE id = ?", (ids[0],))  # a lead deleted meanwhile
    return crm.path, ids


def _state(path: Path) -> tuple[list, list]:
    """The leads' written fields and the owner writes, without the stamps (each call takes its own now)."""
    with sqlite3.connect(path) as db:
        leads = db.execute(
            "SELECT id, owner_id, lead_tier, routing_reason, status, is_deleted FROM leads ORDER BY id"
        ).fetchall()
        writes = db.execute("SELECT lead_id, owner_id FROM owner_writes ORDER BY id").fetchall()
    return leads, writes


_TEXT = st.one_of(st.text(max_size=6), st.sampled_from(["Zoë Müller", "東京 VIP", "U001"]), st.none())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), dtype=st.sampled_from(["string", "str", object]))
def test_the_write_changes_the_crm_as_before(
    base: tuple[Path, list[str]], tmp_path: Path, data: st.DataObject, dtype: object
) -> None:
    path, ids = base
    # an id with a NUL names no lead: it must not be read as the lead whose id it starts with
    lead_ids = data.draw(
        st.lists(st.sampled_from([*ids, "gone-1", "gone-2", ids[1] + "\x00x"]), unique=True, max_size=8)
    )
    frame = pd.DataFrame(
        {
            column: pd.Series(
                [data.draw(_TEXT) for _ in lead_ids] if column != "lead_id" else lead_ids, dtype=dtype
            )
            for column in ("lead_id", "owner_id", "tier", "routing_reason")
        },
        index=data.draw(st.sampled_from([None, range(5, 5 + len(lead_ids))])),
    )
    new, old = tmp_path / f"new-{len(lead_ids)}.db", tmp_path / f"old-{len(lead_ids)}.db"
    shutil.copy(path, new)
    shutil.copy(path, old)
    outcome = SandboxCRM(new).write_assignments(frame)
    # the old form could not bind pd.NA: it is told every missing value as None, which it wrote as null
    cells = frame.astype(object)
    before = _write_assignments_before(SandboxCRM(old), cells.mask(cells.isna(), None))
    # each lead's result under its id as given
    pd.testing.assert_frame_equal(outcome, before.assign(lead_id=frame["lead_id"].to_numpy()))
    assert _state(new) == _state(old)
    new.unlink()
    old.unlink()


def test_a_write_sets_the_owner_once_and_refuses_a_deleted_lead(
    base: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, ids = base
    shutil.copy(path, tmp_path / "crm.db")
    crm = SandboxCRM(tmp_path / "crm.db")
    frame = pd.DataFrame(
        {"lead_id": [ids[0], ids[1]], "owner_id": ["U001", "U002"], "tier": "VIP", "routing_reason": "Zoë"}
    )
    result = crm.write_assignments(frame)
    assert result["ok"].tolist() == [False, True]
    leads, writes = _state(tmp_path / "crm.db")
    assert writes == [(ids[1], "U002")]
    assert leads[1] == (ids[1], "U002", "VIP", "Zoë", "Assigned", 0)


def test_an_id_with_a_nul_writes_no_other_lead(base: tuple[Path, list[str]], tmp_path: Path) -> None:
    """SQLite's JSON functions end a text at a NUL: "<id>\\x00x" must not be taken for <id>."""
    path, ids = base
    frame = pd.DataFrame(
        {
            "lead_id": [ids[1], ids[1] + "\x00x"],
            "owner_id": ["U001", "U002"],
            "tier": "VIP",
            "routing_reason": "r",
        }
    )
    new, old = tmp_path / "new.db", tmp_path / "old.db"
    shutil.copy(path, new)
    shutil.copy(path, old)
    outcome = SandboxCRM(new).write_assignments(frame)
    before = _write_assignments_before(SandboxCRM(old), frame)
    pd.testing.assert_frame_equal(outcome, before)
    assert outcome["ok"].tolist() == [True, False]
    assert _state(new) == _state(old)
    assert _state(new)[1] == [(ids[1], "U001")]  # one owner write, for the lead that exists
