import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client, TransactionTestCase
from rest_framework.test import APIClient

from accounts.models import Account
from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from issuance.services import generation_upload_create
from ledger.models import LedgerEvent
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create, mass_upload_process
from portal.celery import app as celery_app
from registry.models import Membership
from retirements.services import RetirementDetails, retirement_create
from transfers.models import Transfer
from transfers.services import Destination, TransferLine, transfer_create

from .factories import (
    AccountFactory,
    GeneratorFactory,
    OrganizationFactory,
    RetirementOptionFactory,
    TrackingSystemFactory,
    UserFactory,
    api_key_for,
    member,
)


def ledger_state():
    """What a refused action must leave unchanged: the ledger's events, every batch's status and
    account, and the transfers."""
    return (LedgerEvent.objects.count(), sorted(CertificateBatch.objects.values_list("pk", "status", "account_id")),
            Transfer.objects.count())


def signed_in_as(user) -> Client:
    """A client of its own for each person (their own cookies, so one's messages are not another's)."""
    client = Client()
    client.force_login(user)
    return client


def wait_for(predicate, seconds: float = 90, message=""):
    """Wait until `predicate()` holds (a worker's doing), for at most `seconds`; else fail saying
    `message` (a string, or a function giving one when it is needed)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, message() if callable(message) else message
        time.sleep(0.2)


def send(batch, trader, org, counterparty, quantity=100):
    """Send `quantity` of `batch` from `org` to `counterparty` (a pending transfer)."""
    return transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, quantity)],
                           destination=Destination.to_organization(counterparty))


def retire(*, organization, user, lines, account, option=None, compliance_period=2024, **details):
    """Retire `lines` into `account`, by default toward Minnesota's RES for 2024."""
    return retirement_create(organization=organization, user=user, lines=lines, account=account,
                             details=RetirementDetails(option=option or RetirementOptionFactory(),
                                                       compliance_period=compliance_period, **details))


# Unit tests run Celery tasks in-process; tests marked `worker` use a real worker process.
celery_app.conf.task_always_eager = True

# A commit of the tests' connections (this process's, and the Celery processes' and others it starts)
# returns without waiting for PostgreSQL to flush its WAL to disk: what a commit makes visible, and
# every lock, is as before; only a crash of the server could lose the last commits of a test database.
os.environ["PGOPTIONS"] = f"{os.environ.get('PGOPTIONS', '')} -c synchronous_commit=off".strip()

# Under pytest-xdist (`-n 2`) each test process has its own database (pytest-django adds the worker's
# name to it) and its own broker queues in the one Redis database: every broker key is prefixed with
# the database's and the worker's names, here and in the Celery processes it starts (their settings
# read the environment).
if xdist_worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["CELERY_BROKER_KEY_PREFIX"] = f"test-{connection.settings_dict['NAME']}-{xdist_worker}:"
    celery_app.conf.broker_transport_options = {**celery_app.conf.broker_transport_options,
                                                "global_keyprefix": os.environ["CELERY_BROKER_KEY_PREFIX"]}


def _flush_what_the_test_wrote(self) -> None:
    """A transactional test's teardown (django.test.TransactionTestCase's), leaving the database as
    Django's flush does, in less time: only the tables holding rows are truncated (with the tables
    referring to them), and the content types and permissions that post_migrate would write again are
    kept as they are, unless the test changed how many there are (then, and the first time, Django's
    own flush runs)."""
    if self.available_apps is not None or self.serialized_rollback:
        return _django_fixture_teardown(self)
    for name in self._databases_names(include_mirrors=False):
        database = connections[name]
        if _post_migrate_rows.get(name) != _rows(database, _POST_MIGRATE_TABLES):  # and the first time
            _django_fixture_teardown(self)
            _post_migrate_rows[name] = _rows(database, _POST_MIGRATE_TABLES)
            continue
        tables = [table for table in database.introspection.django_table_names(only_existing=True,
                                                                                include_views=False)
                  if table not in _POST_MIGRATE_TABLES]
        quote = database.ops.quote_name
        with database.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(f"(SELECT '{table}'::text FROM {quote(table)} LIMIT 1)"
                                              for table in tables))
            written = [table for (table,) in cursor.fetchall()]
            if written:
                cursor.execute(f"TRUNCATE {', '.join(quote(table) for table in written)} CASCADE")


_POST_MIGRATE_TABLES = ("django_content_type", "auth_permission")
_post_migrate_rows: dict[str, tuple] = {}


def _rows(database, tables) -> tuple:
    with database.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"SELECT count(*) FROM {database.ops.quote_name(t)}" for t in tables))
        return tuple(count for (count,) in cursor.fetchall())


_django_fixture_teardown = TransactionTestCase._fixture_teardown
TransactionTestCase._fixture_teardown = _flush_what_the_test_wrote


@pytest.fixture(autouse=True)
def test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.NOTIFICATION_NUDGE_SECONDS = 0  # every commit sends its emails (at once, Celery being eager)
    # Each test its own cache namespace: nothing cached by one test (or by a portal sharing this
    # Redis) is read by another.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{os.getpid()}-{time.time_ns()}"}}


@pytest.fixture
def still_clock(monkeypatch):
    """The throttle's clock (utilities.throttle.clock) stands 15 s into a minute: every request of the
    test is in one window, 45 s before it ends; the moment it stands at."""
    from utilities import throttle

    moment = time.time() // 60 * 60 + 15
    monkeypatch.setattr(throttle, "clock", lambda: moment)
    return moment


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@registry.example", is_staff=True)


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Prairie Wind Energy")


@pytest.fixture
def trader(org):
    return member(org, Membership.Role.TRADER, email="trader@prairiewind.example")


@pytest.fixture
def manager(org):
    return member(org, Membership.Role.MANAGER, email="manager@prairiewind.example")


@pytest.fixture
def viewer(org):
    return member(org, Membership.Role.VIEWER, email="viewer@prairiewind.example")


@pytest.fixture
def account(org):
    return AccountFactory(organization=org, name="Main active")


@pytest.fixture
def second_account(org):
    return AccountFactory(organization=org, name="Trading")


@pytest.fixture
def retirement_account(org):
    return AccountFactory(organization=org, name="Retirements", type=Account.Type.RETIREMENT)


@pytest.fixture
def counterparty(db):
    """Another organization, able to receive: it has an open active account (counterparty_account)."""
    organization = OrganizationFactory(name="Lakeshore Power Cooperative")
    AccountFactory(organization=organization, name="Lakeshore active")
    return organization


@pytest.fixture
def counterparty_trader(counterparty):
    return member(counterparty, Membership.Role.TRADER, email="trader@lakeshore.example")


@pytest.fixture
def counterparty_account(counterparty):
    return Account.objects.get(organization=counterparty, name="Lakeshore active")


@pytest.fixture
def newcomer(db):
    """An organization onboarded without any account yet: it cannot receive certificates."""
    return OrganizationFactory(name="Newly Onboarded Solar")


@pytest.fixture
def outsider(db):
    other = OrganizationFactory(name="Outsider Renewables")
    return member(other, Membership.Role.MANAGER, email="outsider@elsewhere.example")


@pytest.fixture
def tracking_system(db):
    return TrackingSystemFactory()


@pytest.fixture
def generator(org):
    return GeneratorFactory(organization=org, code="M805", name="Prairie Ridge Wind")


@pytest.fixture
def issue(staff, generator, account):
    """issue(quantity, period=..., account=...) -> the batch holding serials 1..quantity."""
    months = iter(range(1, 1000))

    def _issue(quantity=1000, *, period=None, account=account, generator=generator):
        if period is None:
            n = next(months)
            period = ProductionPeriod.month(2010 + (n - 1) // 12, (n - 1) % 12 + 1)
        certificate = certificate_issue(user=staff, generator=generator, period=period,
                                        quantity=quantity, account=account)
        return CertificateBatch.objects.get(certificate=certificate)

    return _issue


@pytest.fixture
def batch(issue):
    return issue(1000)


@pytest.fixture
def holdings(issue, org, account, second_account, staff):
    """Three certificates of different fuel, state, vintage and account, held by `org`."""
    solar = GeneratorFactory(organization=org, code="M833", name="Mower County Solar", fuel_type="solar",
                             state="IA", eligibilities=["IA AEP"])
    hydro = GeneratorFactory(organization=org, code="M906", name="St. Croix Falls Hydro", fuel_type="hydro",
                             state="WI", eligibilities=["WI RPS"])
    return {
        "wind": issue(1000, period=ProductionPeriod.month(2020, 1)),
        "solar": issue(500, period=ProductionPeriod.month(2020, 6), generator=solar),
        "hydro": issue(200, period=ProductionPeriod.month(2021, 3), generator=hydro, account=second_account),
    }


@pytest.fixture
def foreign_batch(staff, counterparty, counterparty_account):
    generator = GeneratorFactory(organization=counterparty, code="M999", name="Lakeshore Wind")
    certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2020, 1),
                                    quantity=777, account=counterparty_account)
    return CertificateBatch.objects.get(certificate=certificate)


@pytest.fixture
def admin_client(client, db):
    """A client signed in to the admin site as registry staff (`client.staff`)."""
    staff = UserFactory(email="admin@registry.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def signed_in(client):
    def _signed_in(user):
        client.force_login(user)
        return client
    return _signed_in


ROOT = Path(__file__).resolve().parents[1]
VERIFY_LOG = ROOT / "tools" / "verify_log.py"  # the public log's standalone verifier, run as an auditor runs it


def database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    if db["HOST"].startswith("/"):
        return f"postgresql://{user}{password}@/{db['NAME']}?host={db['HOST']}"
    return f"postgresql://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# The queues of portal.settings (CELERY_TASK_DEFAULT_QUEUE, CELERY_TASK_ROUTES), as `make run` starts them.
@pytest.fixture
def no_wakeups(monkeypatch):
    """No commit wakes a consumer of the domain events: the test runs them itself (events_consume)."""
    monkeypatch.setattr("events.services._wakeup", lambda name: lambda: None)


ALL_QUEUES = "celery,outbound"


class CeleryProcesses:
    """`celery worker` (and `celery beat`) processes on the test database and this Redis, started and
    killed as a test needs; tasks are sent to them, not run eagerly."""

    def __init__(self, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path / "media"
        self.tmp_path = tmp_path
        self.env = os.environ | {
            "DATABASE_URL": database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "REGISTRY_DATA_DIR": str(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "portal.settings",
            "CELERY_TASK_ALWAYS_EAGER": "0"}
        self.processes: list[subprocess.Popen] = []
        self.started = 0

    def _start(self, arguments: list[str], name: str, ready: str, env: dict) -> tuple[subprocess.Popen, Path]:
        self.started += 1
        path = self.tmp_path / f"{name}-{self.started}.log"
        log = open(path, "w+")
        process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", *arguments], cwd=ROOT,
                                   env=self.env | env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        deadline = time.monotonic() + 60
        while ready not in path.read_text():
            assert process.poll() is None and time.monotonic() < deadline, path.read_text()
            time.sleep(0.2)
        celery_app.conf.task_always_eager = False
        return process, path

    def worker(self, *, concurrency: int = 1, pool: str = "solo", purge: bool = True, queues: str = ALL_QUEUES,
               **env: str):
        """A worker consuming `queues` (by default both: the tasks' queue and the outbound one)."""
        # Without mingle (a second of asking other workers for their revoked tasks at start), gossip
        # and heartbeats: no test's worker needs its neighbours.
        arguments = ["worker", "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "INFO",
                     "--queues", queues, "--hostname", f"test-{os.getpid()}-{self.started}@%h",
                     "--without-mingle", "--without-gossip", "--without-heartbeat"]
        return self._start(arguments + (["--purge"] if purge else []), "worker", "ready.", env)

    def beat(self, **env: str):
        return self._start(["beat", "--loglevel", "INFO", "--schedule", str(self.tmp_path / f"beat-{self.started}")],
                           "beat", "beat: Starting", env)

    def stop(self) -> None:
        celery_app.conf.task_always_eager = True
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def celery_processes(settings, tmp_path):
    processes = CeleryProcesses(settings, tmp_path)
    yield processes
    processes.stop()


@pytest.fixture
def worker(celery_processes):
    """A `celery worker` process (solo pool) on the test database and this Redis; its log's path."""
    return celery_processes.worker()[1]


@pytest.fixture
def mass_media(settings, tmp_path):
    """Uploaded files go to the test's own directory."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def upload_run(org, trader, mass_media, django_capture_on_commit_callbacks):
    """upload_run(content) -> the generation upload (monthly or interval data) after its task ran (Celery
    is eager in tests: the task queued after commit runs, and the email after it)."""
    def _run(content, user=trader, organization=org):
        with django_capture_on_commit_callbacks(execute=True):
            upload = generation_upload_create(organization=organization, user=user,
                                              upload=SimpleUploadedFile("generation.csv", content.encode()))
        upload.refresh_from_db()
        return upload
    return _run


@pytest.fixture
def mass_run(org, trader, mass_media):
    """mass_run(content, kind=...) -> the upload after its task ran (content: str or bytes)."""
    def _run(content, name="transfers.csv", user=trader, confirm_duplicate=False, kind="transfer"):
        raw = content.encode() if isinstance(content, str) else content
        upload = mass_upload_create(organization=org, user=user, upload=SimpleUploadedFile(name, raw),
                                    confirm_duplicate=confirm_duplicate, kind=kind)
        mass_upload_process(upload_id=upload.pk)
        upload.refresh_from_db()
        return upload
    return _run


@pytest.fixture
def mass_refused(mass_run):
    """The upload fails with `message` on the row and column given, and the ledger is untouched."""
    def _refused(content, message, row=None, column=None, kind="transfer"):
        before = ledger_state()
        upload = mass_run(content, kind=kind)
        assert upload.status == MassTransferUpload.Status.FAILED, upload.errors
        matching = [e for e in upload.errors if message in e["message"]]
        assert matching, upload.errors
        if row is not None:
            assert matching[0]["row"] == row
        if column is not None:
            assert matching[0]["column"].startswith(column)
        assert ledger_state() == before
        return upload
    return _refused


@pytest.fixture
def api_as(db):
    """api_as(user, organization, scope="read", **key_fields) -> an APIClient sending a new key that
    `user` made for `organization` (Authorization: Api-Key <key>)."""
    def _api_as(user, organization, scope="read", **fields):
        _, key = api_key_for(user, organization, scope, **fields)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client
    return _api_as


# Billing (tests/billing.py has the helpers) ----------------------------------------------------------

@pytest.fixture
def schedules(db):
    """The billing tests' fee schedules, from 2090 (tests.billing.standard_schedules)."""
    from .billing import standard_schedules

    return standard_schedules()


@pytest.fixture
def certificate(issue, no_wakeups):
    """5,000 RECs issued today (before any billing schedule: owed nothing)."""
    return issue(5000).certificate


@pytest.fixture
def retiring(org, trader, issue, retirement_account, no_wakeups):
    """retiring(n) -> n new retirements of one certificate each (the public log's tests)."""
    def _retire(count=1):
        made = []
        for _ in range(count):
            batch = issue(1)
            made.append(retire(organization=org, user=trader, account=retirement_account,
                               beneficiary="Twin Cities Library", lines=[TransferLine(batch.pk, 1)]).retirement)
        return made
    return _retire
