"""The sandbox's custom field values: typed as declared, arrival fields set when a lead comes in, later ones
when a rep works it; and the generated training history carries the arrival fields."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leadrouter.classify.history import labelled_history
from leadrouter.fields import NO_CUSTOM_FIELDS, CustomField, LeadFields, model_input_columns
from leadrouter.sandbox.crm import SandboxCRM
from leadrouter.sandbox.custom import CATEGORIES, DATE_SPAN_DAYS, TEXT, custom_values
from leadrouter.sandbox.team import USERS
from leadrouter.sandbox.traffic import Answering, simulate_traffic
from leadrouter.schema import UTC_TS

FIELDS = LeadFields(
    custom=[
        CustomField(name="occupation", type="category", known_at="arrival", values=["Student", "Engineer"]),
        CustomField(name="time_on_site", type="number", known_at="arrival"),
        CustomField(name="repeat_visitor", type="boolean", known_at="arrival"),
        CustomField(name="visited_at", type="date", known_at="arrival"),
        CustomField(name="referrer_note", type="text", known_at="arrival"),
        CustomField(name="lead_quality", type="category", known_at="later"),
        CustomField(name="last_activity", type="date", known_at="later"),
    ]
)
ARRIVAL = ["occupation", "time_on_site", "repeat_visitor", "visited_at", "referrer_note"]
LATER = ["lead_quality", "last_activity"]
NOW = pd.Timestamp("2026-03-02 15:00", tz="UTC")


def test_values_have_each_declared_type_and_plausible_values() -> None:
    created = pd.Series(pd.date_range("2026-01-01", periods=2000, freq="h", tz="UTC"), index=range(5, 2005))
    values = custom_values(np.random.default_rng(4), FIELDS.custom, created)
    assert list(values.columns) == FIELDS.names
    assert values.dtypes.astype(str).to_dict() == {
        "occupation": "string",
        "time_on_site": "Float64",
        "repeat_visitor": "boolean",
        "visited_at": UTC_TS,
        "referrer_note": "string",
        "lead_quality": "string",
        "last_activity": UTC_TS,
    }
    assert values.index.equals(created.index)
    assert set(values["occupation"].dropna()) == {"Student", "Engineer"}
    assert set(values["lead_quality"].dropna()) == set(CATEGORIES)
    assert set(values["referrer_note"].dropna()) <= set(TEXT)
    minutes = values["time_on_site"].dropna()
    assert (minutes >= 0).all() and (minutes == minutes.round()).all() and minutes.nunique() > 50
    assert set(values["repeat_visitor"].dropna()) == {True, False}
    for name in ("visited_at", "last_activity"):
        given = values[name].notna()
        before = created[given] - values.loc[given, name]
        assert before.min() >= pd.Timedelta(0) and before.max() < pd.Timedelta(days=DATE_SPAN_DAYS)
    blanks = values.isna().sum()
    assert ((blanks > 100) & (blanks < 300)).all(), blanks  # about one in ten, in every field
    again = custom_values(np.random.default_rng(4), FIELDS.custom, created)
    pd.testing.assert_frame_equal(values, again)


def test_no_custom_fields_draw_nothing() -> None:
    rng = np.random.default_rng(1)
    assert custom_values(rng, [], pd.Series([NOW] * 3)).shape == (3, 0)
    assert rng.random() == np.random.default_rng(1).random()  # the generator's stream is untouched


def test_sandbox_leads_carry_arrival_values_and_reps_set_the_later_ones(tmp_path: Path) -> None:
    crm = SandboxCRM.create(tmp_path / "sandbox.db", seed=5, leads=60, now=NOW, fields=FIELDS)
    leads, _ = crm.fetch_new_leads(None, 100)
    assert len(leads) == 60
    assert {n: str(leads[n].dtype) for n in FIELDS.names} == {f.name: f.dtype for f in FIELDS.custom}
    assert leads[ARRIVAL].notna().sum().gt(40).all()  # about nine in ten of 60
    assert leads[LATER].isna().all().all()  # nobody has worked them yet
    assert (leads["visited_at"].dropna() <= leads.loc[leads["visited_at"].notna(), "created_at"]).all()

    rep = USERS.loc[USERS["role"] == "ae", "id"].iloc[0]
    crm.write_assignments(
        pd.DataFrame(
            {"lead_id": leads["lead_id"], "owner_id": rep, "tier": "Standard", "routing_reason": "t"}
        )
    )
    answering = {rep: Answering(late=0.0, reject=0.5)}
    simulate_traffic(crm, NOW, leads_per_minute=0.0, seed=1, answering=answering)
    done = simulate_traffic(
        crm, NOW + pd.Timedelta(days=1), leads_per_minute=0.0, seed=2, answering=answering
    )
    assert done["touched"] + done["rejected"] == 60 and done["touched"] > 10 and done["rejected"] > 10
    after = crm.fetch_leads(leads["lead_id"].tolist()).set_index("lead_id")
    status = crm.leads().set_index("id")["status"].reindex(after.index)
    touched = status.isin(["Working", "Converted"])
    assert touched.sum() == done["touched"]
    assert {n: str(after[n].dtype) for n in LATER} == {"lead_quality": "string", "last_activity": UTC_TS}
    assert after.loc[~touched, LATER].isna().all().all()  # a rejected lead was never worked
    assert after.loc[touched, LATER].notna().any(axis=1).sum() > done["touched"] * 0.7
    assert set(after["lead_quality"].dropna()) <= set(CATEGORIES)
    pd.testing.assert_frame_equal(  # the arrival values stay as they came in
        after.loc[leads["lead_id"], ARRIVAL].reset_index(drop=True), leads[ARRIVAL], check_names=False
    )


def test_training_history_carries_the_arrival_fields_typed() -> None:
    plain = labelled_history(3, 300, fields=NO_CUSTOM_FIELDS)
    history = labelled_history(3, 300, fields=FIELDS)
    assert set(history.columns) - set(plain.columns) == set(ARRIVAL)  # never the later ones
    assert set(model_input_columns(FIELDS)) <= set(history.columns)
    assert {n: str(history[n].dtype) for n in ARRIVAL} == {f.name: f.dtype for f in FIELDS.custom[:5]}
    assert history[ARRIVAL].notna().sum().gt(200).all()
    # the canonical leads and labels of a seed are the same whatever fields are declared
    pd.testing.assert_frame_equal(history.drop(columns=ARRIVAL), plain)
