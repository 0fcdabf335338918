"""The pull's look-back: a save committed late, with a stamp before the watermark, is still routed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leadrouter.pull import pull_new_leads
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.edits import stamp
from leadrouter.store import open_store, watermarks


def test_a_late_commit_before_the_watermark_is_found_by_the_look_back(tmp_path: Path) -> None:
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=2, leads=40)
    with open_store(f"sqlite:///{tmp_path}/ledger.db") as store:
        first, cursor = pull_new_leads(store, crm, "sandbox", 1000)
        assert len(first) == 40
        watermarks.advance_watermark(store, "sandbox", cursor)
        now = pd.Timestamp.now(tz="UTC")
        late = crm.add_leads(1, np.random.default_rng(3), now, now)["lead_id"].iloc[0]
        saved_at = first["modified_at"].max() - pd.Timedelta(
            seconds=30
        )  # its transaction began before the last pull
        with crm._db() as db:
            db.execute("UPDATE leads SET modified_at = ? WHERE id = ?", (stamp(saved_at), late))

        without, _ = pull_new_leads(store, crm, "sandbox", 1000)
        assert without.empty  # the watermark alone passes it by
        with_look_back, _ = pull_new_leads(store, crm, "sandbox", 1000, lookback_s=120)
        assert late in set(with_look_back["lead_id"])
