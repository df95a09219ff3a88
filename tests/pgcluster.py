"""Throw-away PostgreSQL clusters for the system tests: Debian's binaries run as the `postgres`
user on a temp data dir and a free port (the shared server on 5432 is never touched), a
streaming replica of one (pg_basebackup), and PgBouncer in front of one."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.system import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def can_run_clusters() -> bool:
    return ((PG_BIN / "pg_ctl").exists() and os.geteuid() == 0
            and shutil.which("runuser") is not None)


def _as_postgres(*argv, check=True, timeout=60):
    return subprocess.run(["runuser", "-u", "postgres", "--", *map(str, argv)], check=check,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)


def _owned_tempdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    postgres = pwd.getpwnam("postgres")
    os.chown(path, postgres.pw_uid, postgres.pw_gid)
    return path


class Cluster:
    """A throw-away PostgreSQL cluster in a temp dir, owned by the postgres user."""

    def __init__(self, *, replica_of: Cluster | None = None) -> None:
        self.dir = _owned_tempdir("ws-pg-")
        self.data = self.dir / "data"
        self.port = free_port()
        if replica_of is None:
            self._as_postgres(PG_BIN / "initdb", "-D", self.data, "-U", "postgres",
                              "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
        else:
            # A streaming replica: a base backup of the running primary, with the standby
            # signal and primary_conninfo written for it (-R); WAL streamed during the copy.
            self._as_postgres(PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p",
                              replica_of.port, "-U", "postgres", "-D", self.data, "-R",
                              "-X", "stream", "--no-sync", "-c", "fast")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/warmstation"

    def _as_postgres(self, *argv, check=True):
        return _as_postgres(*argv, check=check)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-w",
                          "-t", "30", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop",
                          check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def sql(self, query: str, *params, dbname: str = "warmstation"):
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname,
                             autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)




class PgBouncer:
    """PgBouncer in transaction pooling mode in front of a cluster, on its own free port."""

    def __init__(self, cluster: Cluster, *, pool_size: int = 10) -> None:
        self.dir = _owned_tempdir("ws-pgb-")
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/warmstation"
        (self.dir / "users.txt").write_text('"postgres" ""\n')
        (self.dir / "pgbouncer.ini").write_text(f"""[databases]
warmstation = host=127.0.0.1 port={cluster.port} dbname=warmstation

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
admin_users = postgres
auth_file = {self.dir / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 200
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = {self.dir / "pgbouncer.log"}
pidfile = {self.dir / "pgbouncer.pid"}
""")
        for path in self.dir.iterdir():
            shutil.chown(path, "postgres", "postgres")

    def start(self) -> None:
        _as_postgres(PGBOUNCER, "-d", self.dir / "pgbouncer.ini")
        deadline = time.monotonic() + 10
        while not (self.dir / "pgbouncer.pid").exists():
            if time.monotonic() > deadline:
                raise AssertionError((self.dir / "pgbouncer.log").read_text(errors="replace"))
            time.sleep(0.1)

    def show(self, what: str) -> list[tuple]:
        """The admin console's SHOW <what> (pools, stats, …)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="pgbouncer", autocommit=True, prepare_threshold=None) as conn:
            return conn.execute(f"SHOW {what}").fetchall()

    def stop(self) -> None:
        pid = self.dir / "pgbouncer.pid"
        if pid.exists():
            subprocess.run(["kill", pid.read_text().strip()], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
