"""The history database's schema, as numbered migrations applied in order."""

from __future__ import annotations

import sqlite3

# MIGRATIONS[i] takes the schema from version i to i + 1; append, never edit a shipped one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, started REAL NOT NULL,
            ended REAL, routine TEXT NOT NULL, exercises TEXT NOT NULL DEFAULT '[]',
            side TEXT NOT NULL DEFAULT 'painful', level INTEGER,
            status TEXT NOT NULL DEFAULT 'running', pain_before INTEGER, pain_after INTEGER,
            pauses INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE sets (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
            exercise TEXT NOT NULL, side TEXT NOT NULL, level INTEGER, set_no INTEGER NOT NULL,
            sets INTEGER NOT NULL, reps INTEGER NOT NULL DEFAULT 0, target_reps INTEGER,
            hold REAL NOT NULL DEFAULT 0, target_hold REAL,
            skipped INTEGER NOT NULL DEFAULT 0, wall REAL NOT NULL,
            UNIQUE (session_id, exercise, side, set_no))""",
        """CREATE TABLE commands (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
            name TEXT NOT NULL, source TEXT NOT NULL, exercise TEXT, wall REAL NOT NULL)""",
        """CREATE TABLE pain_stops (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
            exercise TEXT, value INTEGER, skipped INTEGER NOT NULL, wall REAL NOT NULL)""",
        """CREATE TABLE safety_checks (
            id INTEGER PRIMARY KEY, wall REAL NOT NULL, answers TEXT NOT NULL,
            flagged INTEGER NOT NULL, answered INTEGER NOT NULL)""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE INDEX sets_by_session ON sets (session_id)",
        "CREATE INDEX sessions_by_start ON sessions (started)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection, readonly: bool) -> None:
    """Bring the schema to SCHEMA_VERSION; sqlite3.DatabaseError when it cannot."""
    # Both in one read: another process may migrate a new file between two.
    version, tables = db.execute("SELECT (SELECT user_version FROM pragma_user_version),"
                                 " (SELECT count(*) FROM sqlite_master)").fetchone()
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"it was written by a newer voicecoach (schema {version}); please update"
        )
    if version == SCHEMA_VERSION:
        return
    if version == 0 and tables:
        # Ours get their tables and their version in one transaction: tables with no version
        # are another program's, not to be written into.
        raise sqlite3.DatabaseError("it is another program's database, not voicecoach's history")
    if readonly:
        raise sqlite3.DatabaseError(f"schema {version} needs upgrading but it is read-only")
    db.execute("BEGIN IMMEDIATE")
    try:
        # Re-read inside the write lock: another session may have migrated meanwhile.
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for step in MIGRATIONS[version:]:
            for statement in step:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
