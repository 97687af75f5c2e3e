"""A throw-away PostgreSQL server on loopback, from Debian's packages, for tests."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


def available() -> bool:
    return _bin("initdb") is not None and _bin("pg_ctl") is not None


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; Debian's package creates the `postgres` user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """A running throw-away server: its URL, and a restart (fast shutdown, then start)."""

    def __init__(self, root: str, port: int) -> None:
        self.root, self.port = root, port
        self.data = os.path.join(root, "data")
        self.log = os.path.join(root, "server.log")
        self.options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def start(self) -> None:
        subprocess.run(
            _as_postgres([_bin("pg_ctl"), "-D", self.data, "-l", self.log, "-o", self.options, "-w", "start"]),
            check=True, capture_output=True, timeout=120,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)

    def restart(self) -> None:
        """Disconnects every session (``-m fast``) and starts the server again."""
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"]),
                       check=True, capture_output=True, timeout=60)
        self.start()


@contextmanager
def postgres_cluster():
    """Yields a fresh running :class:`PostgresCluster`; stops and deletes it after."""
    root = tempfile.mkdtemp(prefix="orp-pg-")
    os.chmod(root, 0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PostgresCluster(root, _free_port())
    subprocess.run(_as_postgres([_bin("initdb"), "-D", cluster.data, "-U", "postgres", "--auth=trust"]),
                   check=True, capture_output=True, timeout=120)
    cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", cluster.data, "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def postgres_server():
    """Yields a SQLAlchemy URL of a fresh database; stops and deletes the server after."""
    with postgres_cluster() as cluster:
        yield cluster.url
