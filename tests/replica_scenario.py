"""What a user sees with a streaming replica configured, run by tests/test_replica.py in a process of
its own: Django on a primary (DATABASE_URL) and its hot standby (REPLICA_DATABASE_URL, with the
replica router and middleware portal/settings.py installs then), both started by the test. Prints
what it saw as JSON, for the test's assertions.

The replica's replay is paused (pg_wal_replay_pause) after a first certificate is issued and has
reached it, then a second is issued: a page or list that shows the first and not the second read the
replica; one that shows the second read the primary."""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from certificates.models import CertificateBatch  # noqa: E402
from certificates.periods import ProductionPeriod  # noqa: E402
from certificates.selectors import batches_for_dashboard  # noqa: E402
from certificates.services import certificate_issue  # noqa: E402
from registry.models import Membership  # noqa: E402
from tests.factories import AccountFactory, GeneratorFactory, OrganizationFactory, UserFactory, api_key_for, member  # noqa: E402
from utilities.replica import PIN_COOKIE, reads_may_lag  # noqa: E402

CAUGHT_UP_SQL = "SELECT count(*), max(id) FROM certificates_certificate"


def replica_caught_up() -> None:
    """Wait until the replica has replayed everything the primary has written: its replay past the
    primary's WAL insert position, and its certificates those of the primary (the replayed position
    alone once let the page read a certificate short: CI, session 15)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        written = cursor.fetchone()[0]
        cursor.execute(CAUGHT_UP_SQL)
        certificates = cursor.fetchone()
    deadline = time.monotonic() + 20
    with connections["replica"].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written])
            replayed = cursor.fetchone()[0]
            cursor.execute(CAUGHT_UP_SQL)
            if replayed and cursor.fetchone() == certificates:
                return
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)


def replay(action: str) -> None:
    """Pause or resume the replica's replay of the primary's changes, and wait until it has."""
    with connections["replica"].cursor() as cursor:
        cursor.execute(f"SELECT pg_wal_replay_{action}()")
        deadline = time.monotonic() + 20
        while action == "pause":
            cursor.execute("SELECT pg_get_wal_replay_pause_state()")
            if cursor.fetchone()[0] == "paused":
                return
            assert time.monotonic() < deadline, "the replica's replay did not pause"
            time.sleep(0.05)


def main() -> None:
    staff = UserFactory(email="staff@replica.example", is_staff=True)
    organization = OrganizationFactory(name="Replica Wind")
    manager = member(organization, Membership.Role.MANAGER, email="manager@replica.example")
    account = AccountFactory(organization=organization, name="Main active")
    generator = GeneratorFactory(organization=organization, code="M805")
    _, key = api_key_for(manager, organization)

    def issue(month: int) -> CertificateBatch:
        certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2020, month),
                                        quantity=1000, account=account)
        return CertificateBatch.objects.select_related("certificate").get(certificate=certificate)

    first = issue(1)
    removed = member(organization, Membership.Role.VIEWER, email="removed@replica.example")
    browser, pinned_browser, removed_browser = Client(), Client(), Client()
    for client in (browser, pinned_browser):
        client.force_login(manager)
    removed_browser.force_login(removed)
    replica_caught_up()
    replay("pause")
    second = issue(2)
    Membership.objects.filter(user=removed).delete()  # on the primary only while replay is paused
    serials = {"first": first.certificate.serial_base, "second": second.certificate.serial_base}

    def shown(text: str) -> list[str]:
        return sorted(name for name, serial in serials.items() if serial in text)

    def page(client: Client, url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()

    api = Client(headers={"Authorization": f"Api-Key {key}"})
    seen = {
        "dashboard": shown(page(browser, "/certificates/")),
        "dashboard_csv": shown(page(browser, "/certificates/download.csv")),
        "api_list": shown(page(api, "/api/v1/batches/")),
        "api_csv": shown(page(api, "/api/v1/batches.csv")),
        "api_batch_second_status": api.get(f"/api/v1/batches/{second.pk}/").status_code,
        "selector_outside_a_lagging_view": shown(" ".join(
            batches_for_dashboard(organization, "active").values_list("certificate__serial_base", flat=True))),
    }

    # Who may see what is decided on the primary: a member removed since the replica's copy sees nothing.
    response = removed_browser.get("/certificates/")
    seen["removed_member_status"] = response.status_code
    seen["removed_member_sees"] = shown(response.content.decode())

    @reads_may_lag
    def write_then_list() -> list[str]:
        serials["third"] = issue(3).certificate.serial_base
        return shown(" ".join(batches_for_dashboard(organization, "active")
                              .values_list("certificate__serial_base", flat=True)))

    @reads_may_lag
    def list_in_a_transaction() -> list[str]:
        with transaction.atomic():
            return shown(" ".join(batches_for_dashboard(organization, "active")
                                  .values_list("certificate__serial_base", flat=True)))

    @reads_may_lag
    def just_list() -> list[str]:
        return shown(" ".join(batches_for_dashboard(organization, "active")
                              .values_list("certificate__serial_base", flat=True)))

    seen["lagging_view_that_wrote"] = write_then_list()
    seen["lagging_view_in_a_transaction"] = list_in_a_transaction()
    seen["lagging_view_read_only"] = just_list()

    # A rename posted (a write, on the primary) pins that browser to the primary: the dashboard it goes to
    # shows the account's new name; another browser of the same user, not pinned, still the replica's.
    response = pinned_browser.post(f"/accounts/{account.pk}/rename/", {"name": "Renamed active"})
    seen["rename_status"] = response.status_code
    seen["rename_pin_cookie"] = PIN_COOKIE in response.cookies
    seen["pinned_dashboard_names_renamed"] = "Renamed active" in page(pinned_browser, "/certificates/")
    seen["unpinned_dashboard_names_renamed"] = "Renamed active" in page(browser, "/certificates/")
    seen["read_only_page_pins"] = PIN_COOKIE in browser.get("/certificates/").cookies

    replay("resume")
    replica_caught_up()
    seen["dashboard_after_replay"] = shown(page(browser, "/certificates/"))
    seen["unpinned_dashboard_names_renamed_after_replay"] = "Renamed active" in page(browser, "/certificates/")
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
