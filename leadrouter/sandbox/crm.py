"""The built-in sandbox CRM: a SQLite file shaped like a CRM (users, accounts, contacts, leads, activities,
deals) behind the same protocol as Salesforce and HubSpot. What happens to it outside routing (new leads, rejections,
edits) is in `edits`."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from leadrouter.crm.base import (
    ACCOUNT_COLUMNS,
    REJECTION_COLUMNS,
    STAMP,
    WRITE_RESULT_COLUMNS,
    cursor_of,
    held_frame,
    parse_cursor,
)
from leadrouter.enrich.firmographics import TableProvider
from leadrouter.fields import LeadFields, configured_fields, conform_leads
from leadrouter.sandbox.accounts import generate_accounts, generate_contacts
from leadrouter.sandbox.edits import REJECTED, SandboxEdits, stamp
from leadrouter.sandbox.team import USERS
from leadrouter.schema import UTC_TS, conform

SCHEMA = Path(__file__).with_name("crm.sql")
# tables added after the first release: a sandbox made by an older version gains them when opened
LATER_TABLES = SCHEMA.read_text()[SCHEMA.read_text().index("-- added later") :]


# The CRM records of the asked emails (q_emails) and domains (q_domains), in the order a scan of each table
# gives. Each email drives a search of the lower(email) index: `+q.v` drops the column's TEXT affinity, which
# the index's expression lacks (with it, SQLite would scan every lead and lower each email, even for one
# asked); CROSS JOIN keeps the asked emails the outer loop, and rowid restores the scan's order.
EXISTING = """
SELECT kind, record_id, email, domain, owner_id FROM (
    SELECT 1 AS part, l.rowid AS rn, 'lead' AS kind, l.id AS record_id, lower(l.email) AS email,
           NULL AS domain, l.owner_id AS owner_id
      FROM q_emails q CROSS JOIN leads l ON lower(l.email) = +q.v WHERE l.is_deleted = 0
    UNION ALL
    SELECT 2, c.rowid, 'contact', c.id, lower(c.email), NULL, c.owner_id
      FROM q_emails q CROSS JOIN contacts c ON lower(c.email) = +q.v
    UNION ALL
    SELECT 3, NULL, 'account', id, NULL, domain, owner_id FROM accounts WHERE domain IN (SELECT v FROM q_domains)
) ORDER BY part, rn, domain
"""


class SandboxCRM(SandboxEdits):
    """A CRM in a SQLite file. `latency_s` adds a delay to every call, to imitate a remote API. Custom fields
    (the configured ones by default) are read from lead_fields under their names."""

    name = "sandbox"

    def __init__(self, path: Path | str, latency_s: float = 0.0, fields: LeadFields | None = None) -> None:
        self.path = Path(path)
        self.latency_s = latency_s
        self.fields = fields or configured_fields()
        if not self.path.exists():
            raise FileNotFoundError(f"no sandbox CRM at {self.path}: run `leadrouter init` first")
        # the sandbox's own schema upgrade, not a CRM call: a run opening its CRM waits for no latency_s
        with self._db(latency=False) as db:
            db.executescript(LATER_TABLES)

    @classmethod
    def create(
        cls,
        path: Path | str,
        seed: int = 7,
        leads: int = 0,
        now: pd.Timestamp | None = None,
        fields: LeadFields | None = None,
    ) -> SandboxCRM:
        """A fresh sandbox with the sales team, accounts, contacts and `leads` new leads from the last hour;
        fields: the custom fields (the configured ones by default)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        rng = np.random.default_rng(seed)
        now = now or pd.Timestamp.now(tz="UTC")
        accounts = generate_accounts(rng, 400)
        owners = USERS.loc[USERS["role"].isin(["senior_ae", "ae"]), "id"].to_numpy()
        accounts["owner_id"] = rng.choice(owners, len(accounts))
        contacts = generate_contacts(rng, accounts, 1500)
        contacts = contacts.merge(accounts[["account_id", "owner_id"]], on="account_id")
        # closed here, not when the collector gets to it: a copy of the file would miss what its WAL still holds
        with closing(sqlite3.connect(path)) as db, db:
            db.executescript(SCHEMA.read_text())
            USERS.to_sql("users", db, if_exists="append", index=False)
            accounts.rename(columns={"account_id": "id"}).drop(columns="region").to_sql(
                "accounts", db, if_exists="append", index=False
            )
            contacts.rename(columns={"contact_id": "id"}).to_sql(
                "contacts", db, if_exists="append", index=False
            )
        crm = cls(path, fields=fields)
        crm._state_set("seed", str(seed))
        if leads:
            crm.add_leads(leads, rng, now - pd.Timedelta(hours=1), now)
        return crm

    @contextmanager
    def _db(self, latency: bool = True) -> Iterator[sqlite3.Connection]:
        if latency and self.latency_s:
            time.sleep(self.latency_s)
        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        try:
            with db:
                yield db
        finally:
            db.close()

    def fetch_new_leads(self, since: str | None, limit: int) -> tuple[pd.DataFrame, str | None]:
        after_stamp, after_id = parse_cursor(since)
        query = """
            SELECT * FROM leads
            WHERE is_deleted = 0 AND converted_opportunity_id IS NULL
              AND (modified_at, id) > (?, ?)
            ORDER BY modified_at, id LIMIT ?
        """
        # a row value: the page starts where the cursor is in the (modified_at, id) index; an OR of the two
        # columns scanned the index from its start past every page read before
        with self._db() as db:
            rows = pd.read_sql_query(query, db, params=(after_stamp, after_id, limit))
            if rows.empty:
                return conform_leads(pd.DataFrame(), self.fields), since
            frame = self._leads_frame(db, rows)
        last = frame.iloc[-1]
        return frame, cursor_of(last["modified_at"], last["lead_id"])

    def fetch_leads(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        with self._db() as db:
            _asked(db, "q_ids", lead_ids)
            rows = pd.read_sql_query(
                "SELECT * FROM leads WHERE is_deleted = 0 AND id IN (SELECT v FROM q_ids) ORDER BY id", db
            )
            return self._leads_frame(db, rows)

    def held_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        with self._db() as db:
            _asked(db, "q_ids", frame["lead_id"])
            current = pd.read_sql_query(
                "SELECT id AS lead_id, owner_id, lead_tier AS tier, routing_reason, modified_at FROM leads "
                "WHERE is_deleted = 0 AND id IN (SELECT v FROM q_ids)",
                db,
            )
        return held_frame(frame[["lead_id", "owner_id", "tier", "routing_reason"]], current)

    def _leads_frame(self, db: sqlite3.Connection, rows: pd.DataFrame) -> pd.DataFrame:
        """Lead rows as canonical leads with their custom field values (one query for the whole page)."""
        leads = rows.rename(columns={"id": "lead_id", "owner_id": "crm_owner_id"})
        if self.fields.custom and len(leads):
            _asked(db, "q_leads", leads["lead_id"])
            values = pd.read_sql_query(
                "SELECT lead_id, name, value FROM lead_fields WHERE lead_id IN (SELECT v FROM q_leads)", db
            )
            wide = values.pivot(index="lead_id", columns="name", values="value")
            leads = leads.join(wide.reindex(columns=self.fields.names), on="lead_id")
        return conform_leads(leads, self.fields)

    def fetch_accounts(self) -> pd.DataFrame:
        with self._db() as db:
            accounts = pd.read_sql_query(
                """
                SELECT a.id AS account_id, a.name, a.website, a.owner_id, u.active AS owner_active,
                       MAX(d.created_at) AS last_activity_at, a.employees, a.industry, a.annual_revenue
                FROM accounts a LEFT JOIN users u ON u.id = a.owner_id LEFT JOIN deals d ON d.account_id = a.id
                GROUP BY a.id ORDER BY a.id
                """,
                db,
            )
        return conform(accounts.assign(owner_active=accounts["owner_active"].eq(1)), ACCOUNT_COLUMNS)

    def firmographics(self) -> TableProvider:
        """The accounts' size, industry and revenue by domain: the provider routing enriches with on a sandbox."""
        with self._db() as db:
            accounts = pd.read_sql_query(
                "SELECT domain, employees, industry, annual_revenue FROM accounts", db
            )
        return TableProvider(accounts)

    def fetch_owners(self) -> pd.DataFrame:
        with self._db() as db:
            users = pd.read_sql_query("SELECT id AS owner_id, name, email, role, active FROM users", db)
        return users[users["active"] == 1].assign(active=True).reset_index(drop=True)

    def inactive_owners(self) -> pd.DataFrame:
        with self._db() as db:
            return pd.read_sql_query(
                "SELECT id AS owner_id, email FROM users WHERE active = 0 ORDER BY id", db
            )

    def find_existing(self, emails: Sequence[str], domains: Sequence[str]) -> pd.DataFrame:
        emails = sorted({e.strip().lower() for e in emails if e})
        domains = sorted({d.strip().lower() for d in domains if d})
        with self._db() as db:
            _asked(db, "q_emails", emails)
            _asked(db, "q_domains", domains)
            return pd.read_sql_query(EXISTING, db)

    def write_assignments(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Set owner, tier and routing reason on each lead, as one batch: one statement over the batch as JSON,
        as a bulk API takes it. A statement a row released and retook the GIL a row at a time: beside a busy
        thread, each row waited for its turn."""
        written_at = stamp(pd.Timestamp.now(tz="UTC"))
        cells = frame[["lead_id", "owner_id", "tier", "routing_reason"]].to_numpy(object, copy=True)
        cells[pd.isna(cells)] = None  # missing (NaN or pd.NA) is null, as JSON has it
        rows = json.dumps(cells.tolist())
        with self._db() as db:
            if _cut_at_nul(rows):  # bound a row at a time, as before: the owner writes too
                db.executemany(
                    "UPDATE leads SET owner_id = ?, lead_tier = ?, routing_reason = ?, modified_at = ?, "
                    "status = 'Assigned' WHERE id = ? AND is_deleted = 0",
                    [(owner, tier, reason, written_at, lead) for lead, owner, tier, reason in cells.tolist()],
                )
                db.executemany(
                    "INSERT INTO owner_writes (lead_id, owner_id, written_at) SELECT id, owner_id, ? FROM leads "
                    "WHERE id = ? AND is_deleted = 0 AND modified_at = ?",
                    [(written_at, lead, written_at) for lead in cells[:, 0].tolist()],
                )
            else:
                db.execute(
                    "UPDATE leads SET owner_id = w.value ->> 1, lead_tier = w.value ->> 2, "
                    "routing_reason = w.value ->> 3, modified_at = ?, status = 'Assigned' "
                    "FROM json_each(?) AS w WHERE leads.id = w.value ->> 0 AND leads.is_deleted = 0",
                    (written_at, rows),
                )
                # in the batch's order, one row a write that landed (a deleted lead's did not)
                db.execute(
                    "INSERT INTO owner_writes (lead_id, owner_id, written_at) SELECT leads.id, leads.owner_id, ? "
                    "FROM json_each(?) AS w JOIN leads ON leads.id = w.value ->> 0 "
                    "WHERE leads.is_deleted = 0 AND leads.modified_at = ? ORDER BY w.key",
                    (written_at, rows, written_at),
                )
            (live,) = db.execute(
                "SELECT json_group_array(id) FROM leads WHERE is_deleted = 0 AND modified_at = ?",
                (written_at,),
            ).fetchone()
        ok = frame["lead_id"].isin(set(json.loads(live)))
        result = pd.DataFrame({"lead_id": frame["lead_id"].to_numpy(), "ok": ok.to_numpy()})
        result["retry"] = False
        result["error"] = pd.Series(
            np.where(ok, None, "ENTITY_IS_DELETED: the lead no longer exists"), dtype="string"
        )
        return result[WRITE_RESULT_COLUMNS]

    def first_touch(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        with self._db() as db:
            touches = pd.read_sql_query(
                "SELECT lead_id, MIN(created_at) AS first_touch_at FROM activities GROUP BY lead_id", db
            )
        out = pd.DataFrame({"lead_id": list(lead_ids)}).merge(touches, on="lead_id", how="left")
        out["first_touch_at"] = pd.to_datetime(out["first_touch_at"], utc=True, format=STAMP).astype(UTC_TS)
        return out

    def rejections(self, since: pd.Timestamp) -> pd.DataFrame:
        with self._db() as db:
            found = pd.read_sql_query(
                "SELECT lead_id, changed_by AS owner_id, changed_at AS rejected_at FROM status_changes "
                "WHERE status = ? AND changed_at > ? ORDER BY changed_at, id",
                db,
                params=(REJECTED, stamp(since.tz_convert("UTC"))),
            )
        found["rejected_at"] = pd.to_datetime(found["rejected_at"], utc=True, format=STAMP).astype(UTC_TS)
        return found[REJECTION_COLUMNS]

    def fetch_outcomes(self, lead_ids: Sequence[str]) -> pd.DataFrame:
        with self._db() as db:
            deals = pd.read_sql_query(
                """
                SELECT l.id AS lead_id, d.id AS deal_id, d.stage, d.is_closed, d.is_won, d.amount, d.close_date,
                       NULL AS currency, d.created_at AS deal_created_at
                FROM leads l JOIN deals d ON d.id = l.converted_opportunity_id
                """,
                db,
            )
        deals = deals[deals["lead_id"].isin(set(lead_ids))].reset_index(drop=True)
        return deals.astype({"is_closed": bool, "is_won": bool})


def _asked(db: sqlite3.Connection, table: str, values: Iterable[str]) -> None:
    """The values asked for (lead ids, emails, domains), as a temporary table a query joins: no statement of
    thousands of values, and one insert from JSON, not one a value (each retook the GIL)."""
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (v TEXT PRIMARY KEY)")
    db.execute(f"DELETE FROM {table}")
    values = list(values)
    asked = json.dumps(values)
    if _cut_at_nul(asked):  # bound a value at a time
        db.executemany(f"INSERT OR IGNORE INTO {table} VALUES (?)", [(v,) for v in values])
    else:
        db.execute(f"INSERT OR IGNORE INTO {table} SELECT value FROM json_each(?)", (asked,))


def _cut_at_nul(values_json: str) -> bool:
    """Whether SQLite's JSON functions would read a text of this JSON short: they end a text at a NUL (which
    JSON writes as an escape). Such values are bound one by one instead."""
    return "\\u0000" in values_json
