"""Shared set-up for the benchmarks: a database of their own (registry_bench..., or <name>_bench...
for DATABASE_URL's database <name>), on the PostgreSQL named by DATABASE_URL, or by
.data/runtime.env while `make run` runs."""

import os
import statistics
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_database_url(name: str) -> str:
    runtime_env = ROOT / ".data" / "runtime.env"
    url = os.environ.get("DATABASE_URL")
    if not url and runtime_env.exists():
        url = dict(line.split("=", 1) for line in runtime_env.read_text().splitlines()).get("DATABASE_URL")
    url = url or "postgresql://postgres@127.0.0.1:5432/registry"
    parts = urlsplit(url)
    # Named after DATABASE_URL's database (registry: registry_bench...), so that benchmarks run
    # for different databases of one server never drop each other's.
    return urlunsplit(parts._replace(path=f"/{parts.path.strip('/') or 'registry'}{name.removeprefix('registry')}"))


def setup_django(database: str = "registry_bench", fresh: bool = False, exact: bool = False) -> str:
    """Point Django at the benchmark database (created and migrated as needed) and set it up; with
    `exact`, the database of that very name (one kept between runs: bench/publiclog_fill.py's)."""
    import psycopg

    url = bench_database_url(database)
    if exact:
        url = urlunsplit(urlsplit(url)._replace(path=f"/{database}"))
    database = urlsplit(url).path.strip("/")  # as bench_database_url named it
    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if exists and fresh:
            connection.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            exists = None
        if not exists:
            connection.execute(f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return url


def process_log(name: str):
    """A file for a server or worker the benchmark starts: its log (at the level production keeps,
    with console emails) goes there instead of between the benchmark's numbers."""
    directory = ROOT / ".data" / "bench-logs"
    directory.mkdir(parents=True, exist_ok=True)
    return open(directory / f"{name}.log", "w")


def backend_cpu(pid: int) -> float:
    """The CPU seconds (user and system) a PostgreSQL backend on this machine has used so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu() -> float:
    """The CPU seconds every PostgreSQL process on this machine has used so far, those that ended included
    (the postmaster's reaped children): the server's work however many connections did it. On a machine
    where others use the server too, theirs is in it."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            head, rest = open(f"/proc/{entry}/stat").read().rsplit(")", 1)
        except OSError:  # it ended meanwhile
            continue
        if not head.endswith("(postgres"):
            continue
        fields = rest.split()
        total += int(fields[11]) + int(fields[12])
        if fields[1] == "1" or not open(f"/proc/{fields[1]}/stat").read().rsplit(")", 1)[0].endswith("(postgres"):
            total += int(fields[13]) + int(fields[14])  # the postmaster: its ended children's
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def describe(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.1f} ms, p95 {percentile(values, 0.95) * 1000:.1f} ms, "
            f"max {max(values) * 1000:.1f} ms")
