"""decisions.explanation becomes jsonb on PostgreSQL: stored parsed, so reading a value of it (write-back's summary
and reopen, a run's tally, the star schema's enrichment) no longer parses the whole ~900-byte text again. SQLite
keeps JSON as text either way: nothing changes there.

json accepts two escapes jsonb refuses: \\u0000 and a lone surrogate (\\ud800). The store's serialiser never
writes either (a NUL becomes U+FFFD), but an explanation recorded by an older release might hold one: that value,
and only it, has each such escape made U+FFFD, as the serialiser does now, instead of failing the upgrade.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# pg_temp: gone with the session (a pooled one may still hold it: replaced); called by its qualified name
AS_JSONB = r"""
CREATE OR REPLACE FUNCTION pg_temp.explanation_as_jsonb(value json) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN value::jsonb;
EXCEPTION WHEN untranslatable_character OR invalid_text_representation THEN
    RETURN regexp_replace(
        value::text, '(?<!\\)((?:\\\\)*)\\u(0000|[dD][89abcdefABCDEF][0-9a-fA-F]{2})', '\1\\ufffd', 'g'
    )::jsonb;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(AS_JSONB)
    op.execute(
        "ALTER TABLE decisions ALTER COLUMN explanation TYPE jsonb "
        "USING pg_temp.explanation_as_jsonb(explanation)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE decisions ALTER COLUMN explanation TYPE json USING explanation::json")
