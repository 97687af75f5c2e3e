"""``python -m openrouter_pipe migrate``: copy the reference Python pipe's stored artifacts
(its ``response_items_*`` tables in Open WebUI's database) into this pipe's own store, so
chats started with the Python pipe keep their reasoning and tool context; or copy this
pipe's own SQLite artifact file into a PostgreSQL database (moving from one node to many).
The target is a SQLite file or a PostgreSQL URL; the copy is done by the engine.

Run it outside the Open WebUI process (two SQLite libraries must never share a file in
one process). It reads the source read-only, never changes it, and can be re-run: rows
already copied are skipped.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from urllib.parse import unquote
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import _native

CHUNK = 500
COLUMNS = ("id", "chat_id", "message_id", "model_id", "item_type", "payload", "is_encrypted", "created_at")


@dataclass
class Report:
    """What a migration found and copied, per table."""

    tables: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def copied(self) -> int:
        return sum(t["copied"] for t in self.tables.values())

    @property
    def seen(self) -> int:
        return sum(t["rows"] for t in self.tables.values())

    def lines(self) -> list[str]:
        out = [f"{name}: {t['rows']} row(s), {t['copied']} copied" for name, t in sorted(self.tables.items())]
        out.append(f"total: {self.seen} row(s) found, {self.copied} copied, {self.seen - self.copied} already present")
        return out


def _row(values: tuple) -> dict[str, Any]:
    row = dict(zip(COLUMNS, values))
    payload = row["payload"]
    if not isinstance(payload, str):
        payload = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    created = row["created_at"]
    if isinstance(created, datetime):
        created = created.strftime("%Y-%m-%d %H:%M:%S.%f")
    return {
        **row,
        "payload": payload,
        "is_encrypted": bool(row["is_encrypted"]),
        "created_at": str(created or "1970-01-01 00:00:00.000000"),
        "model_id": row["model_id"],
    }


class _SqliteSource:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def tables(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'response\\_items\\_%' ESCAPE '\\'"
        )
        return [r[0] for r in rows]

    def rows(self, table: str) -> Iterator[list[tuple]]:
        cursor = self.conn.execute(f'SELECT {", ".join(COLUMNS)} FROM "{table}" ORDER BY created_at, id')
        while batch := cursor.fetchmany(CHUNK):
            yield batch

    def close(self) -> None:
        self.conn.close()


class _SqlAlchemySource:
    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine, inspect

        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.engine = create_engine(url)
        self.inspect = inspect

    def tables(self) -> list[str]:
        names = self.inspect(self.engine).get_table_names()
        return [n for n in names if n.startswith("response_items_")]

    def rows(self, table: str) -> Iterator[list[tuple]]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(
                text(f'SELECT {", ".join(COLUMNS)} FROM "{table}" ORDER BY created_at, id')
            )
            while batch := result.fetchmany(CHUNK):
                yield [tuple(r) for r in batch]

    def close(self) -> None:
        self.engine.dispose()


def open_source(source: str):
    """A SQLite file path (``sqlite:///…`` too) or any SQLAlchemy URL (PostgreSQL…)."""
    if source.startswith("sqlite:///"):
        return _SqliteSource(Path(source[len("sqlite:///") :]))
    if "://" in source:
        return _SqlAlchemySource(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no database file at {path}")
    return _SqliteSource(path)


def is_postgres_url(value: str) -> bool:
    """``postgresql://``, ``postgres://`` and driver-suffixed forms (``postgresql+psycopg://``)."""
    scheme = value.strip().split("://", 1)[0].lower() if "://" in value else ""
    return scheme.split("+", 1)[0] in ("postgresql", "postgres")


def _password(url: str | None) -> str | None:
    if not url or "://" not in url:
        return None
    userinfo = url.split("://", 1)[1].split("?", 1)[0]
    if "@" not in userinfo:
        return None
    userinfo = userinfo.rsplit("@", 1)[0]
    return userinfo.split(":", 1)[1] if ":" in userinfo else None


def redact(text: str, *urls: str | None) -> str:
    """``text`` without the password of any of ``urls`` (raw or percent-decoded)."""
    for url in urls:
        password = _password(url)
        if password:
            for form in {password, unquote(password)}:
                text = text.replace(form, "***")
    return re.sub(r"(://[^:/@\s]*):[^@\s]*@", r"\1:***@", text)


def default_target() -> Path | None:
    data_dir = os.environ.get("DATA_DIR")
    return Path(data_dir) / "openrouter_pipe" / "artifacts.db" if data_dir else None


def migrate(source: str, target: Path | str, dry_run: bool = False) -> Report:
    """Copies every ``response_items_*`` table of ``source`` into ``target`` (a SQLite
    file, or a PostgreSQL URL string)."""
    if isinstance(target, str) and not is_postgres_url(target):
        target = Path(target)
    if isinstance(target, Path) and not source.count("://") and Path(source).resolve() == target.resolve():
        raise ValueError("the source and the target are the same file")
    report = Report()
    src = open_source(source)
    try:
        for table in src.tables():
            stats = report.tables.setdefault(table, {"rows": 0, "copied": 0})
            for batch in src.rows(table):
                rows = [_row(values) for values in batch]
                stats["rows"] += len(rows)
                if not dry_run:
                    stats["copied"] += _native.import_artifact_rows(str(target), table, json.dumps(rows))
    finally:
        src.close()
    return report
