"""A PostgreSQL server of our own on this machine, for tests, benchmarks and trials (`medsettle ha` builds on it).

PostgreSQL refuses to run as root: when we are root, the server runs as an unprivileged system user (Debian's
`postgres` when the package made one, else `medsettle-pg`, created here), and the directories it needs are given to
that user. It listens on a Unix socket in its own directory (no port to collide with other runs on a shared machine)
and, when asked, on a loopback TCP port too.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import pwd
import shutil
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

SERVICE_USER_PREFERRED = ("postgres", "medsettle-pg")
START_S_MAX = 60.0


def bin_dir() -> pathlib.Path:
    """Debian's PostgreSQL binaries (postgresql-15 or newer), or those on PATH."""
    versions = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if versions:
        return versions[-1].parent
    found = shutil.which("postgres")
    if found:
        return pathlib.Path(found).resolve().parent
    raise FileNotFoundError("no PostgreSQL server binaries: install Debian's postgresql (`apt-get install postgresql`)")


def service_user() -> str | None:
    """The user to run PostgreSQL as: None when we are not root (we run it ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in SERVICE_USER_PREFERRED:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    name = SERVICE_USER_PREFERRED[-1]
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    return name


def give(path: pathlib.Path, user: str | None) -> None:
    """Make `path` (a directory we created) the service user's, and let it reach the path (the parents' x bit)."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid)
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)  # traverse only: nothing becomes listable or readable


def as_user(user: str | None) -> dict:
    """subprocess arguments that run a child as `user` with that user's own group only: root's group would put it
    in the group class of root's 0700/0701 directories (pytest's among them) and lock it out of its own files."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def run_as(user: str | None, args: list[str], cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess:
    """Run a command as `user` (from a directory that user can enter), its output in the error when it fails."""
    done = subprocess.run(args, capture_output=True, text=True, cwd=cwd or "/", **as_user(user))
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
    return done


@dataclass
class LocalPostgres:
    """One server: initdb on first start, `conninfo(db)` to reach it, stop() to end it."""

    directory: pathlib.Path
    port: int = 0  # 0: the Unix socket only
    durable: bool = True  # False: fsync off (tests of behaviour, never of durability)

    def __post_init__(self) -> None:
        self.directory = pathlib.Path(self.directory).resolve()
        self.data = self.directory / "data"
        self.socket_dir = self.directory
        self.user = service_user()
        self.bin = bin_dir()
        self.process: subprocess.Popen | None = None

    def conninfo(self, dbname: str = "postgres", **params: str) -> str:
        query = {"host": str(self.socket_dir), "user": "postgres", **params}
        if self.port:
            query["port"] = str(self.port)
        return f"postgresql:///{dbname}?{urllib.parse.urlencode(query)}"

    def start(self) -> LocalPostgres:
        self.directory.mkdir(parents=True, exist_ok=True)
        if not (self.data / "PG_VERSION").exists():
            give(self.directory, self.user)
            run_as(self.user, [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                               "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"])
        settings = {
            "listen_addresses": "127.0.0.1" if self.port else "",
            "port": str(self.port or 5432),
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": "200",
            "shared_buffers": "128MB",
            "fsync": "on" if self.durable else "off",
            "synchronous_commit": "on" if self.durable else "off",
            "full_page_writes": "on" if self.durable else "off",
            "logging_collector": "off",
        }
        args = [str(self.bin / "postgres"), "-D", str(self.data)]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        log = open(self.directory / "postgres.log", "ab")  # noqa: SIM115 - the server's stderr for its life
        self.process = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True, cwd="/",
                                        **as_user(self.user))
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_S_MAX
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"postgres exited {self.process.returncode}: see {self.directory / 'postgres.log'}")
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.conninfo(name)

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGINT)  # fast shutdown: open sessions are ended, not waited for
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def running(directory: pathlib.Path, **kwargs) -> Iterator[LocalPostgres]:
    server = LocalPostgres(directory, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()
