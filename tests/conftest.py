import datetime

import pytest

from accounts.models import Account
from certificates.models import CertificateBatch
from certificates.services import certificate_issue
from registry.celery import app as celery_app
from registry.models import Membership

from .factories import (
    AccountFactory,
    GeneratorFactory,
    OrganizationFactory,
    TrackingSystemFactory,
    UserFactory,
    member,
)

# Unit tests run Celery tasks in-process; tests marked `worker` use a real worker process.
celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
    return OrganizationFactory(name="Lakeshore Power Cooperative")


@pytest.fixture
def counterparty_trader(counterparty):
    return member(counterparty, Membership.Role.TRADER, email="trader@lakeshore.example")


@pytest.fixture
def counterparty_account(counterparty):
    return AccountFactory(organization=counterparty, name="Lakeshore active")


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
    """issue(quantity, vintage=..., account=...) -> the batch holding serials 1..quantity."""
    months = iter(range(1, 1000))

    def _issue(quantity=1000, *, vintage=None, account=account, generator=generator):
        if vintage is None:
            n = next(months)
            vintage = datetime.date(2010 + (n - 1) // 12, (n - 1) % 12 + 1, 1)
        certificate = certificate_issue(user=staff, generator=generator, vintage=vintage,
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
        "wind": issue(1000, vintage=datetime.date(2020, 1, 1)),
        "solar": issue(500, vintage=datetime.date(2020, 6, 1), generator=solar),
        "hydro": issue(200, vintage=datetime.date(2021, 3, 1), generator=hydro, account=second_account),
    }


@pytest.fixture
def foreign_batch(staff, counterparty, counterparty_account):
    generator = GeneratorFactory(organization=counterparty, code="M999", name="Lakeshore Wind")
    certificate = certificate_issue(user=staff, generator=generator, vintage=datetime.date(2020, 1, 1),
                                    quantity=777, account=counterparty_account)
    return CertificateBatch.objects.get(certificate=certificate)


@pytest.fixture
def signed_in(client):
    def _signed_in(user):
        client.force_login(user)
        return client
    return _signed_in
