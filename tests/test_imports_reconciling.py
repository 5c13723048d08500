"""Registry to registry (#32 item 2), reconciliation: each side compares, per registry running this project,
what it sent and received with what the other says it received and sent, over a signed exchange, and
reports any difference to staff (the admin's Reconciliations, an email to the admins). The other registry
here is this one over HTTP (a live server, configured as its own peer): what it sent is what it received."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from events.services import events_consume
from imports.models import PeerRegistry, Reconciliation
from imports.reconciling import registry_reconcile, registry_summary, summaries_compared
from transfers.models import Transfer
from transfers.services import transfer_accept

from .test_imports_answers import export_of
from .test_imports_sending import closed_port, loopback  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db(transaction=True)
NOW = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)


def test_registries_that_agree_report_no_difference(batch, trader, org, counterparty, counterparty_trader,
                                                    counterparty_account, staff, loopback):  # noqa: F811
    export_of(org, trader, counterparty, loopback, (batch.pk, 30))
    events_consume(consumer="registry_messages")
    transfer_accept(transfer=Transfer.objects.get(kind="import"), user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    events_consume(consumer="registry_messages")
    record = registry_reconcile(peer=loopback, grace=datetime.timedelta(0))
    assert (record.compared, record.differences, record.problem) == (2, [], "")
    # The other side (here, the same registry) recorded its own comparison of the exchange too.
    assert Reconciliation.objects.count() == 2 and not mail.outbox


def test_an_export_that_never_arrived_is_reported_to_staff(batch, trader, org, counterparty, live_server, staff,
                                                           loopback):  # noqa: F811
    PeerRegistry.objects.filter(pk=loopback.pk).update(url=f"http://127.0.0.1:{closed_port()}")
    export = export_of(org, trader, counterparty, loopback, (batch.pk, 30))
    events_consume(consumer="registry_messages")  # not sent: the other registry cannot be reached
    PeerRegistry.objects.filter(pk=loopback.pk).update(url=live_server.url)
    loopback.refresh_from_db()
    with pytest.raises(CommandError):
        call_command("reconcile_registries", "--grace-minutes", "0", stdout=(out := StringIO()))
    assert f"Our export {export.pk} (30 certificates, pending) is unknown to Loopback Registry: it never arrived." \
        in out.getvalue()
    # This side's record says it (the other side, asked within its own grace of an hour, compared nothing yet).
    assert [len(record.differences) for record in Reconciliation.objects.order_by("pk")] == [0, 2]
    [email] = mail.outbox
    assert email.to == [staff.email] and "Reconciliation with Loopback Registry: 2 differences" in email.subject
    assert f"Our export {export.pk} (30 certificates, pending) is unknown to Loopback Registry" in email.body


def test_a_recent_export_is_left_out_until_its_answer_had_time_to_arrive(batch, trader, org, counterparty,
                                                                         loopback):  # noqa: F811
    export_of(org, trader, counterparty, loopback, (batch.pk, 30))
    record = registry_reconcile(peer=loopback)  # the default grace: an hour
    assert (record.compared, record.differences) == (0, [])


def test_a_registry_that_cannot_be_reached_is_a_problem_recorded(loopback):  # noqa: F811
    PeerRegistry.objects.filter(pk=loopback.pk).update(url=f"http://127.0.0.1:{closed_port()}")
    loopback.refresh_from_db()
    record = registry_reconcile(peer=loopback)
    assert "could not be reached" in record.problem


@pytest.mark.parametrize(("theirs", "words"), [
    ({"received": {}}, "Our export 7 (30 certificates, accepted) is unknown to B: it never arrived."),
    ({"received": {"7": [29, "accepted", "2026-05-01T00:00:00+00:00"]}},
     "Our export 7: 30 certificates, accepted here; 29 certificates, accepted at B."),
    ({"received": {"7": [30, "rejected", "2026-05-01T00:00:00+00:00"]}},
     "Our export 7: 30 certificates, accepted here; 30 certificates, rejected at B."),
    ({"received": {"7": [30, "accepted", "2026-05-01T00:00:00+00:00"]},
      "sent": {"9": [5, "pending", "2026-05-01T00:00:00+00:00"]}},
     "B has its export 9 (5 certificates, pending), unknown here."),
    ({"received": {"7": [30, "accepted", "2026-05-01T00:00:00+00:00"]}, "sent": {}, "mine_received": True},
     "Its export 4 (8 certificates, rejected) is unknown to B: received here, it was never sent."),
])
def test_each_kind_of_difference_is_worded(theirs, words):
    mine = {"sent": {"7": [30, "accepted", "2026-05-01T00:00:00+00:00"]}, "received": {}}
    if theirs.pop("mine_received", False):
        mine["received"] = {"4": [8, "rejected", "2026-05-01T00:00:00+00:00"]}
    compared, differences = summaries_compared(mine, {"sent": {}, **theirs}, name="B", now=NOW)
    assert differences == [words]


def test_exports_from_before_the_registry_ran_this_project_are_not_reconciled(batch, trader, org, counterparty,
                                                                             loopback):  # noqa: F811
    export_of(org, trader, counterparty, loopback, (batch.pk, 30))
    assert list(registry_summary(loopback)["sent"]) == [str(Transfer.objects.get(kind="export").pk)]
    PeerRegistry.objects.filter(pk=loopback.pk).update(created_at=timezone.now() + datetime.timedelta(minutes=1))
    loopback.refresh_from_db()
    assert registry_summary(loopback)["sent"] == {}  # sent to it by hand, confirmed by staff


def test_agreeing_summaries_differ_in_nothing():
    entry = [30, "accepted", "2026-05-01T00:00:00+00:00"]
    assert summaries_compared({"sent": {"7": entry}, "received": {}}, {"sent": {}, "received": {"7": entry}},
                              name="B", now=timezone.now()) == (1, [])
