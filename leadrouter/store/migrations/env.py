"""Alembic environment: runs on the connection the store hands over, or on sqlalchemy.url."""

from alembic import context
from sqlalchemy import create_engine

from leadrouter.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")


def run(conn) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    with create_engine(config.get_main_option("sqlalchemy.url")).connect() as conn:
        run(conn)
