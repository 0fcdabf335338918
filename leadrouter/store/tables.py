"""The ledger's tables (SQLAlchemy Core). Alembic migrations in store/migrations create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

metadata = MetaData()
TS = DateTime(timezone=True)
EXPLANATION = JSON().with_variant(JSONB(), "postgresql")

watermarks = Table(
    "watermarks",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("cursor", Text, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# one row per (source, lead_id): the ledger that proves every lead was decided exactly once
decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("lead_id", String(64), nullable=False),
    Column("run_id", String(64)),
    Column("status", String(16), nullable=False),
    Column("tier", String(16)),
    Column("category", String(16)),
    Column("priority", Integer),
    Column("decided_by", String(80)),
    Column("confidence", Float),
    Column("owner_id", String(64)),
    Column("pool", String(64)),
    # jsonb on PostgreSQL: read from its parsed form, as write-back (summary, reopen), the run's tally and the
    # star schema do; json text was parsed again for every value read (migration 0014)
    Column("explanation", EXPLANATION),
    Column("rulebook_version", String(32)),
    Column("shadow", Boolean, nullable=False, default=False),
    Column("lead_created_at", TS),
    Column("decided_at", TS, nullable=False),
    Column("claim", String(64)),  # the router writing the owner now
    Column("claimed_at", TS),
    Column("written_at", TS),
    Column("write_attempts", Integer, nullable=False, default=0),
    Column("write_error", Text),
    Column("sla_due_at", TS),
    Column("first_touch_at", TS),
    Column("assigned_at", TS),  # when the current owner got the lead (decided, or re-routed after a breach)
    Column("duplicate_of", String(96)),  # "contact:003…", "lead:00Q…" or "batch:<lead id>"
    Column("urgency", String(16)),  # high | normal | low, from the model; null for rule decisions
    Column("model_input_tokens", Integer),  # what the model call cost (null: no model; 0: a cached answer)
    Column("model_output_tokens", Integer),
    Column("model_cost_usd", Float),
    Column("model_outcome", String(80)),  # answered, cached, truncated, refused, ... (null: no model asked)
    Column("model_cache_write_tokens", Integer),  # prompt-cache tokens written and read (null: not Claude)
    Column("model_cache_read_tokens", Integer),
    Column(
        "custom_fields", JSON
    ),  # custom field -> value when decided (config/fields.yaml); null: none declared
    # the conversion model's view (null: no conversion model scored the lead): its P(an opportunity within 90
    # days), expected value, the tier its cut-offs give and its top reasons
    Column("score", Float),
    Column("expected_value", Float),
    Column("score_tier", String(16)),
    Column("score_reasons", Text),
    # the lead's language (ISO 639-1) and the detector's confidence (null: the country's language, or unknown);
    # the skills its owner matched ("language=ja, industry=software")
    Column("language", String(8)),
    Column("language_confidence", Float),
    Column("skills_matched", Text),
    # what the lead said of itself on arrival, for slicing outcomes (as the CRM gave it; null: not given)
    Column("lead_source", Text),  # the channel: Salesforce LeadSource, HubSpot hs_analytics_source
    Column("country", Text),  # ISO 3166 alpha-2 (enrich.geo.country_code); null: none could be told
    Column("employees", BigInteger),  # as given: a quarantined lead may say anything
    UniqueConstraint("source", "lead_id", name="uq_decisions_lead"),
    Index("ix_decisions_status", "source", "status"),
    Index("ix_decisions_owner_load", "source", "owner_id", "decided_at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("lead_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("released_at", TS),
    UniqueConstraint("source", "lead_id", name="uq_quarantine_lead"),
)

review_queue = Table(
    "review_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("lead_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("resolved_at", TS),
    Column("resolution", JSON),
    Column("due_at", TS),  # the review SLA: late items escalate
    Column("escalated_at", TS),
    Column("escalated_to", String(64)),
    Column("suggested_tier", String(16)),  # the model's best guess, when it had one
    Column("confidence", Float),
    UniqueConstraint("source", "lead_id", name="uq_review_lead"),
)

# weighted round-robin state per rep and pool; updated in the same transaction as the decisions
rep_state = Table(
    "rep_state",
    metadata,
    Column("pool", String(64), primary_key=True),
    Column("rep_id", String(64), primary_key=True),
    Column("pass_value", Float),  # null: new to the pool, starts level with it,
    Column("assigned", Integer, nullable=False, default=0),
    Column("updated_at", TS, nullable=False),
)

# one answer per distinct model input (a hash of the model, prompt version and lead text): identical texts are
# never billed twice, across runs and routers
model_answers = Table(
    "model_answers",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("model", String(80), nullable=False),
    Column("answer", JSON, nullable=False),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("created_at", TS, nullable=False),
)

# each lead's SLA clock events: breach (owner), reroute (owner -> new_owner_id), reject, escalation (to the
# manager in new_owner_id), touch
sla_events = Table(
    "sla_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("lead_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("tier", String(16)),
    Column("owner_id", String(64)),
    Column("new_owner_id", String(64)),
    Column("at", TS, nullable=False),
    Column("detail", JSON),
    Index("ix_sla_events_lead", "source", "lead_id"),
)

# every notification sent or tried: retried, recorded, never blocking routing
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("lead_id", String(64)),
    Column("kind", String(16), nullable=False),  # assigned | reassigned | breach | escalation | ack
    Column("recipient", String(64)),  # owner id, or null for a channel-wide message
    Column("channel", String(16), nullable=False),  # slack | email
    Column("status", String(16), nullable=False),  # sent | failed
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("created_at", TS, nullable=False),
    Column("sent_at", TS),
    Column("message", JSON, nullable=False),
)

# the 90-day outcome loop: the deal each routed lead became, as the CRM last reported it (leadrouter.outcomes.join)
outcomes = Table(
    "outcomes",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("lead_id", String(64), primary_key=True),
    Column("deal_id", String(64)),
    Column("stage", String(80)),
    Column("is_closed", Boolean, nullable=False, default=False),
    Column("is_won", Boolean, nullable=False, default=False),
    Column("amount", Float),
    Column("close_date", Date),
    Column("currency", String(3)),  # ISO 4217, when the CRM gives one (null: the org's single currency)
    Column(
        "deal_created_at", TS
    ),  # the CRM's own creation stamp (Salesforce CreatedDate, HubSpot createdate)
    Column("first_seen_at", TS, nullable=False),  # when the loop first saw a deal for the lead
    Column("updated_at", TS, nullable=False),
)

# what analysts query (docs/outcome-tables.md): one row per routed lead, replaced per source on every run
outcome_leads = Table(
    "outcome_leads",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("lead_id", String(64), primary_key=True),
    Column("tier", String(16)),
    Column("decided_by", String(80)),
    Column("decided_kind", String(8)),
    Column("rule", String(80)),
    Column("owner_id", String(64)),
    Column("week", Date, nullable=False),
    Column("lead_created_at", TS),
    Column("decided_at", TS, nullable=False),
    Column("first_touch_at", TS),
    Column("speed_to_lead_min", Float),
    Column("sla_breached", Boolean, nullable=False),
    Column("reassigned", Boolean, nullable=False),
    Column("wrong_assignment", Boolean, nullable=False),
    Column("manual_triage", Boolean, nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("meeting", Boolean, nullable=False),
    Column("opportunity", Boolean, nullable=False),
    Column("won", Boolean, nullable=False),
    Column("pipeline", Float, nullable=False),  # in `currency`
    Column("revenue", Float, nullable=False),
    Column("currency", String(3)),  # the deal's ISO 4217 code; null: the CRM's only currency, or no deal
    Column("amount_date", Date),  # the day the amount converts on: the close date, else the arrival date
    Column("closed", Boolean, nullable=False),
    Column("days_to_opportunity", Float),
    Column("hindsight_tier", String(16), nullable=False),
    Column("computed_at", TS, nullable=False),
    Index("ix_outcome_leads_week", "source", "week"),
)

# the analyst tables in long form: one figure per (dimension, value, metric), beside its threshold if it has one
outcome_metrics = Table(
    "outcome_metrics",
    metadata,
    Column("source", String(32), primary_key=True),
    Column(
        "dimension", String(16), primary_key=True
    ),  # tier | rule | decided_kind | owner_id | source | week | all
    Column("value", String(96), primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("figure", Float),
    Column("op", String(1)),  # "<" or ">": the figure passes below or above the threshold
    Column("threshold", Float),
    Column("target", String(40)),
    Column("passes", Boolean),
    Column("computed_at", TS, nullable=False),
)


class UtcStamp(TypeDecorator):
    """A UTC moment: TIMESTAMPTZ on PostgreSQL; ISO 8601 text with its +00:00 offset on SQLite, where
    DateTime would drop the offset. Naive values are refused: they would be read as some other zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        return dialect.type_descriptor(String(32) if dialect.name == "sqlite" else DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | str | None:
        if value is None or dialect.name != "sqlite":
            return value
        if value.tzinfo is None:
            raise ValueError(f"naive timestamp {value!r}: pass an aware UTC datetime")
        return sqlite_stamp(value)

    def process_result_value(self, value: datetime | str | None, dialect: Dialect) -> datetime | None:
        return datetime.fromisoformat(value) if isinstance(value, str) else value


def sqlite_stamp(value: datetime) -> str:
    """The text an aware moment is stored as on SQLite: ISO 8601 in UTC, microseconds, +00:00."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


UTC_STAMP = UtcStamp()
MONEY = Numeric(18, 2)  # amounts in the deal's own currency: exact, never a float

# the star schema (docs/outcome-tables.md, migration 0012): one fact row per routed lead, replaced per source on
# every outcome-loop run; the rep dimension kept with history; the calendar; daily snapshots appended
dim_calendar = Table(
    "dim_calendar",
    metadata,
    Column("date", Date, primary_key=True),
    Column("iso_week", Date, nullable=False),  # the Monday of the date's ISO week
    Column("month", Date, nullable=False),  # the first of the month
    Column("quarter", String(7), nullable=False),  # "2026-Q3"
    Column("year", Integer, nullable=False),
    Column("day_of_week", Integer, nullable=False),  # 1 Monday … 7 Sunday
    Column("fiscal_year", Integer, nullable=False),  # named by the calendar year it ends in
    Column("fiscal_quarter", String(10), nullable=False),  # "FY2027-Q1"
    Column("fiscal_year_start_month", Integer, nullable=False),
)

dim_rep = Table(
    "dim_rep",
    metadata,
    Column("rep_key", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("rep_id", String(64), nullable=False),  # the CRM owner id (or the email, until the CRM gave an id)
    Column("kind", String(8), nullable=False),  # rep | queue
    Column("name", String(120)),
    Column("email", String(254)),
    Column("role", String(40)),
    Column("team", String(80)),
    Column("pools", Text),  # the roster's pools naming the rep, sorted, comma-separated
    Column("regions", Text),
    Column("languages", Text),
    Column("active", Boolean, nullable=False),
    Column("valid_from", UTC_STAMP, nullable=False),
    Column("valid_to", UTC_STAMP),  # null: the current version
    Index("ix_dim_rep_current", "source", "rep_id", "valid_from"),
)

fact_routed_leads = Table(
    "fact_routed_leads",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("lead_id", String(64), primary_key=True),
    Column("arrival_date", Date, ForeignKey("dim_calendar.date"), nullable=False),
    Column("arrival_hour", Integer, nullable=False),  # 0-23, UTC
    Column("tier", String(16)),
    Column("decided_by", String(80)),
    Column("decided_kind", String(8)),
    Column("rule", String(80)),
    Column("pool", String(64)),
    Column("first_owner_id", String(64)),
    Column("owner_id", String(64)),  # the owner now
    Column("owner_path", Text),  # first owner > each re-route's new owner, in order
    Column("rep_key", Integer, ForeignKey("dim_rep.rep_key")),  # the first owner's version at the decision
    Column("region", String(16)),
    Column("territory", String(64)),
    Column("industry", String(80)),
    Column("seniority", String(32)),
    Column("lead_source", Text),  # the channel, as the CRM gave it
    Column("country", Text),  # ISO 3166 alpha-2, the decision's
    Column("employees", BigInteger),
    Column("size_band", String(16)),  # employees in bands: 1-10, 11-49, 50-199, 200-999, 1000+
    Column("language", String(8)),
    Column("custom_fields", JSON),
    Column("lead_created_at", UTC_STAMP),
    Column("decided_at", UTC_STAMP, nullable=False),
    Column("first_touch_at", UTC_STAMP),
    Column("speed_to_lead_min", Float),
    Column("accepted", Boolean, nullable=False),
    Column("sla_breached", Boolean, nullable=False),
    Column("reassigned", Boolean, nullable=False),
    Column("wrong_assignment", Boolean, nullable=False),
    Column("manual_triage", Boolean, nullable=False),
    Column("opportunity", Boolean, nullable=False),
    Column("won", Boolean, nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("deal_id", String(64)),
    Column("deal_stage", String(80)),
    Column("deal_created_at", UTC_STAMP),
    Column("deal_close_date", Date),
    Column("deal_amount", MONEY),
    Column("deal_currency", String(3)),
    Column("deal_final", Boolean, nullable=False),  # closed, or past the re-check horizon: it will not change
    Column("days_to_opportunity", Float),
    Column("hindsight_tier", String(16)),  # null: an opportunity with no date
    Column("computed_at", UTC_STAMP, nullable=False),
    Index("ix_fact_routed_leads_arrival", "source", "arrival_date"),
)

# the headline counts per day, per (dimension, value): appended by each day's run, that day's rows replaced
outcome_snapshots = Table(
    "outcome_snapshots",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("snapshot_date", Date, ForeignKey("dim_calendar.date"), primary_key=True),
    Column("dimension", String(16), primary_key=True),  # tier | rule | owner_id | source
    Column("value", String(96), primary_key=True),
    Column("leads", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("breached", Integer, nullable=False),
    Column("wrong_assignments", Integer, nullable=False),
    Column("reassigned", Integer, nullable=False),
    Column("opportunities", Integer, nullable=False),
    Column("won", Integer, nullable=False),
    Column("closed_deals", Integer, nullable=False),
    Column("matured", Integer, nullable=False),  # leads past their 90 days
    Column("matured_hindsight_vip", Integer, nullable=False),  # of those, VIP in hindsight
    Column("speed_median_min", Float),
    Column("speed_p90_min", Float),
    Column("computed_at", UTC_STAMP, nullable=False),
)

# what one unit of a currency is worth in the base currency from a day on: the user maintains it
fx_rates = Table(
    "fx_rates",
    metadata,
    Column("currency", String(3), primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("base_currency", String(3), nullable=False),
    Column("rate", Numeric(18, 8), nullable=False),
)
