"""The cluster's PostgreSQL database: created when missing (the launcher), dropped and its
connections cut (the cluster tests).

The statements run on the server's maintenance database (``postgres``) with the cluster's
credentials, in autocommit (``CREATE DATABASE`` cannot run in a transaction). The database
name is checked against a strict pattern before it is put into a statement.
"""

from __future__ import annotations

import re

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
MAINTENANCE_DB = "postgres"


def _name_and_admin_engine(url: str) -> tuple[str, Engine]:
    parsed = make_url(url)
    name = parsed.database or ""
    if not _NAME.fullmatch(name):
        raise ValueError("the database name must be lower-case letters, digits and _")
    admin = parsed.set(drivername="postgresql+psycopg2", database=MAINTENANCE_DB)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    return name, engine


def ensure_database(url: str) -> bool:
    """Create the database of ``url`` if it does not exist; True when it was created."""
    name, engine = _name_and_admin_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if found:
                return False
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            return True
    finally:
        engine.dispose()


def terminate_connections(url: str) -> int:
    """Cut every connection to the database of ``url`` (but this one); how many were cut."""
    name, engine = _name_and_admin_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            ).all()
        return sum(1 for row in rows if row[0])
    finally:
        engine.dispose()


def drop_database(url: str) -> None:
    """Drop the database of ``url`` if it exists, cutting its connections first."""
    name, engine = _name_and_admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        engine.dispose()
