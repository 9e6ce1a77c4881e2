"""What the benchmark scripts share: settings, the throwaway database, gunicorn, the HTTP load.

The scripts (bench/send_due.py, bench/webhook_ingest.py, bench/tracking_watch.py) put the project
root on sys.path and import from here; this module imports only the standard library at the top,
so it can be imported before django.setup(). In it:

- the production settings with bench-only defaults for the secrets production requires
  (SETTINGS_DEFAULTS, setup_django), and for the HTTP benchmarks the environment of plain HTTP
  on loopback shared with gunicorn (server_environment, setup_django_on_loopback);
- a throwaway database made with Django's test-database machinery, dropped at the end even on
  error (throwaway_database);
- the machine facts every report starts with (machine_facts, print_machine);
- gunicorn serving bench/wsgi.py on 127.0.0.1 and a free port: --workers and --max-seconds,
  start, wait for /healthz, stop (add_server_arguments, free_port, start_server, wait_until_up,
  stop_server, tail of its log);
- the load generator: one thread per concurrent client, each with its own http.client
  connection, nearest-rank latency percentiles (Request, run_load, warm_up, measure);
- the end of a run: "benchmark failed: …" and "check failed: …" on stderr, status 1 (fail,
  failed_requests, report_problems);
- for the benchmarks that run Celery: `celery -A bench.celery_app worker|beat` on a queue of the
  benchmark's own (start_celery), and that queue's deletion at the end (drain_queue).
"""

import argparse
import contextlib
import http.client
import itertools
import math
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

PROJECT_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# The WSGI application the HTTP benchmarks serve; the AFTERSALE_BENCH_* variables configure it.
WSGI_APPLICATION = "bench.wsgi:application"
# The Celery app of the benchmarks that run a worker (bench/celery_app.py).
CELERY_APP = "bench.celery_app"
START_TIMEOUT = 60
STOP_TIMEOUT = 30
REQUEST_TIMEOUT = 30
# Concurrent clients of the untimed warm-up requests.
WARMUP_CONCURRENCY = 16

SETTINGS_DEFAULTS = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    # Production needs these two secrets; the bench database is thrown away, so any will do.
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
    "FIELD_ENCRYPTION_KEY": "OurUkHjKtvBxCuc1o2f7r8A9zZ0bOeTiDwDdRNz1oX4=",
}


class BenchError(Exception):
    """The benchmark cannot go on, or a check failed (a message not sent, a non-200…)."""


def log(message: str) -> None:
    """Progress on stderr, after the name of the script run: `[webhook_ingest] …`."""
    print(f"[{Path(sys.argv[0]).stem}] {message}", file=sys.stderr, flush=True)


# --- settings and database --------------------------------------------------------------------


def setup_django(database: str | None = None) -> None:
    """django.setup() with the production settings, SETTINGS_DEFAULTS filling in what the
    environment leaves unset; `database` replaces the database name."""
    for name, value in SETTINGS_DEFAULTS.items():
        os.environ.setdefault(name, value)
    import django
    from django.conf import settings

    django.setup()
    if database:
        # No connection is open yet, so the first query goes to this database.
        settings.DATABASES["default"]["NAME"] = database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_environment(port: int) -> None:
    """The environment of this process and of gunicorn: production settings on loopback."""
    for name, value in SETTINGS_DEFAULTS.items():
        os.environ.setdefault(name, value)
    # Plain HTTP on loopback: no HTTPS redirect, and the only host is the loopback address.
    os.environ["ALLOWED_HOSTS"] = HOST
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["SITE_URL"] = f"http://{HOST}:{port}"
    os.environ.pop("DEBUG", None)


def setup_django_on_loopback() -> None:
    """setup_django() after server_environment(); exits unless that gave production over HTTP."""
    setup_django()
    from django.conf import settings

    if settings.DEBUG or settings.SECURE_SSL_REDIRECT:
        raise SystemExit("expected the production settings, with SECURE_SSL_REDIRECT off")


@contextlib.contextmanager
def throwaway_database(name: str, verbose: bool = False) -> Iterator[str]:
    """The database `name`, made from scratch (migrated; one left by an interrupted run is
    dropped first) and used by this process's connection until it is dropped, at the end of
    the block even on error. Yields the name to hand to other processes."""
    from django.db import connection

    connection.settings_dict["TEST"]["NAME"] = name
    old_name = connection.settings_dict["NAME"]
    if verbose:
        log(f"creating and migrating the database {name}")
    database = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False, keepdb=False
    )
    try:
        yield database
    finally:
        if verbose:
            log(f"dropping {name}")
        connection.creation.destroy_test_db(old_name, verbosity=0)


def start_celery(
    role: str, env: dict[str, str], folder: Path, queue: str, *, pool: str | None = None
) -> subprocess.Popen:
    """`celery -A bench.celery_app worker` (on `queue` only) or `… beat`, its output in
    folder/<role>.log; `pool` replaces Celery's default (prefork, one process per CPU)."""
    celery = Path(sys.executable).parent / "celery"
    if not celery.exists():
        raise BenchError(f"{celery} not found: run with the project's .venv/bin/python")
    command = [str(celery), "-A", CELERY_APP, role, "--loglevel=WARNING"]
    if role == "beat":
        command += ["--schedule", str(folder / "beat-schedule")]
    else:
        command += ["--queues", queue, "--hostname", f"{queue}@{os.uname()[1]}"]
        if pool:
            command += ["--pool", pool]
    log_path = folder / f"{role}.log"
    log(f"starting: {' '.join(command)} (log: {log_path})")
    with log_path.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 - fixed arguments, the venv's own celery
            command,
            cwd=PROJECT_DIR,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def drain_queue(queue: str) -> int:
    """How many tasks wait in the benchmark's queue; the queue is then deleted."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        # kombu keeps a queue as a Redis list named after it (one more per priority step) and
        # the exchange's bindings in sets.
        keys = [queue, *(f"{queue}\x06\x16{p}" for p in (1, 2, 3, 6, 9))]
        queued = sum(client.llen(key) for key in keys)
        client.delete(*keys, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    finally:
        client.close()
    return queued


def fail(error: BenchError) -> int:
    print(f"benchmark failed: {error}", file=sys.stderr)
    return 1


def report_problems(problems: list[str]) -> int:
    """Each problem on stderr; the exit status: 1 if there is any."""
    for problem in problems:
        print(f"check failed: {problem}", file=sys.stderr)
    return 1 if problems else 0


# --- machine facts ----------------------------------------------------------------------------


def machine_facts(
    load_average: tuple[float, ...] | None = None,
    gunicorn_workers: int | None = None,
    shared_buffers: bool = False,
) -> dict:
    """CPUs, versions and load average (now, unless given); with `gunicorn_workers`, gunicorn's
    version and workers; with `shared_buffers`, PostgreSQL's setting."""
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        if shared_buffers:
            cursor.execute("SELECT version(), current_setting('shared_buffers')")
            postgres, buffers = cursor.fetchone()
        else:
            cursor.execute("SELECT version()")
            (postgres,) = cursor.fetchone()
    facts = {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
    }
    if gunicorn_workers is not None:
        import gunicorn

        facts["gunicorn"] = gunicorn.__version__
        facts["gunicorn_workers"] = gunicorn_workers
        facts["gunicorn_worker_class"] = "sync"
    facts["postgresql"] = postgres
    if shared_buffers:
        facts["shared_buffers"] = buffers
    facts["platform"] = platform.platform()
    if load_average is None:
        load_average = os.getloadavg()
    facts["load_average_at_start"] = [round(x, 2) for x in load_average]
    return facts


def print_machine(machine: dict) -> None:
    """The three lines under a report's title: CPUs and versions, PostgreSQL, load average."""
    line = f"CPUs: {machine['cpu_count']}   Python {machine['python']}   Django {machine['django']}"
    if "gunicorn" in machine:
        line += f"   gunicorn {machine['gunicorn']} ({machine['gunicorn_workers']} sync workers)"
    print(line)
    postgres = f"PostgreSQL: {machine['postgresql']}"
    if "shared_buffers" in machine:
        postgres += f" (shared_buffers {machine['shared_buffers']})"
    print(postgres)
    print(f"Load average at start: {machine['load_average_at_start']}")


# --- gunicorn ---------------------------------------------------------------------------------


def add_server_arguments(parser: argparse.ArgumentParser, max_seconds_help: str) -> None:
    """--workers (gunicorn's) and --max-seconds (the time cap of one load run)."""
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn sync workers (default: 2 × CPUs + 1)",
    )
    parser.add_argument("--max-seconds", type=float, default=60, help=max_seconds_help)


def start_server(
    port: int, workers: int, log_path: Path, bench_env: dict[str, str]
) -> subprocess.Popen:
    """gunicorn serving bench/wsgi.py on HOST:port, configured by `bench_env` (the
    AFTERSALE_BENCH_* variables), its output in `log_path`."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        raise BenchError(f"{gunicorn} not found: run with the project's .venv/bin/python")
    env = {**os.environ, **bench_env}
    command = [
        str(gunicorn),
        WSGI_APPLICATION,
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
    ]
    if "control_socket_disable" in gunicorn_settings():
        # gunicorn 24+ opens a control socket at a fixed path (~/.gunicorn/gunicorn.ctl) that
        # another gunicorn on the machine (the demo's) may be using.
        command.append("--no-control-socket")
    log(f"starting: {' '.join(command)} (log: {log_path})")
    with log_path.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 - fixed arguments, the venv's own gunicorn
            command, cwd=PROJECT_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )


def gunicorn_settings() -> set[str]:
    from gunicorn.config import KNOWN_SETTINGS

    return {setting.name for setting in KNOWN_SETTINGS}


def wait_until_up(server: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}:\n{tail(log_path)}")
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            body = response.read()
            if response.status == 200:
                return
            last = f"{response.status} {body[:200]!r}"
        except OSError as error:
            last = f"{type(error).__name__}: {error}"
        finally:
            conn.close()
        time.sleep(0.2)
    raise BenchError(f"/healthz did not answer 200 within {START_TIMEOUT} s ({last})")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- load -------------------------------------------------------------------------------------


class Request(NamedTuple):
    """One request of a load run, and the bytes its response must contain (besides a 200)."""

    method: str
    path: str
    expected: bytes
    body: bytes | None = None
    headers: dict[str, str] | None = None


def run_load(port: int, requests: list[Request], concurrency: int, max_seconds: float) -> dict:
    """Send the requests from `concurrency` threads at once; latencies and failures."""
    count = len(requests)
    counter = itertools.count()
    barrier = threading.Barrier(concurrency + 1)
    deadline = [math.inf]
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures: list[list[str]] = [[] for _ in range(concurrency)]
    finished = [0.0] * concurrency

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        mine, bad = latencies[k], failures[k]
        barrier.wait()
        while (i := next(counter)) < count and time.perf_counter() < deadline[0]:
            request = requests[i]
            started = time.perf_counter()
            try:
                conn.request(request.method, request.path, request.body, request.headers or {})
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                bad.append(f"{type(error).__name__}: {error}")
                conn.close()
                continue
            mine.append(time.perf_counter() - started)
            if response.status != 200 or request.expected not in data:
                bad.append(f"{response.status} {request.path} {data[:200]!r}")
        finished[k] = time.perf_counter()
        conn.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(concurrency)]
    for thread in threads:
        thread.start()
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline[0] = started + max_seconds
    barrier.wait()
    for thread in threads:
        thread.join(max_seconds + 2 * REQUEST_TIMEOUT)
    if any(thread.is_alive() for thread in threads):
        raise BenchError("a client thread did not finish")
    wall = max(finished) - started
    all_latencies = sorted(x for mine in latencies for x in mine)
    all_failures = [f for bad in failures for f in bad]
    # A failure that starts with a status code was answered; the others were sent all the same.
    sent = len(all_latencies) + sum(1 for f in all_failures if not f[:3].isdigit())
    return {
        "requests": sent,
        "seconds": round(wall, 4),
        "per_second": len(all_latencies) / wall,
        "p50_ms": percentile(all_latencies, 0.50) * 1000,
        "p99_ms": percentile(all_latencies, 0.99) * 1000,
        "max_ms": all_latencies[-1] * 1000 if all_latencies else math.nan,
        "failures": len(all_failures),
        "first_failures": all_failures[:3],
        # The load generator's own CPU time (it shares the machine with gunicorn and PostgreSQL).
        "client_cpu_seconds": round(time.process_time() - cpu_started, 3),
        "time_capped": sent < count,
    }


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def warm_up(
    port: int, name: str, requests: list[Request], max_seconds: float, log_path: Path
) -> dict:
    """The requests, untimed, from WARMUP_CONCURRENCY clients; BenchError if one fails."""
    outcome = run_load(port, requests, WARMUP_CONCURRENCY, max_seconds)
    if outcome["failures"]:
        raise BenchError(
            f"warm-up of {name}: {outcome['failures']} failed requests, first: "
            f"{outcome['first_failures']}\n{tail(log_path)}"
        )
    return outcome


def measure(
    port: int, requests: list[Request], concurrency: int, max_seconds: float, label: str
) -> dict:
    """run_load(), its figures logged after `label`, and its first failures if any."""
    outcome = run_load(port, requests, concurrency, max_seconds)
    log(
        f"{label}: {outcome['per_second']:.1f} req/s, p50 {outcome['p50_ms']:.1f} ms, "
        f"p99 {outcome['p99_ms']:.1f} ms, {outcome['failures']} failed"
        + (" (time cap reached)" if outcome["time_capped"] else "")
    )
    if outcome["failures"]:
        log(f"first failures: {outcome['first_failures']}")
    return outcome


def failed_requests(measurements: list[dict]) -> list[str]:
    """A problem for each measurement (or configuration) with failed requests."""
    return [
        f"{m['failures']} failed requests at concurrency {m['concurrency']} ({m['endpoint']})"
        for m in measurements
        if m["failures"]
    ]
