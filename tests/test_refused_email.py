"""An email address a real SMTP server always refuses delays no other email and no webhook: its
event's claim is retried and set aside on its own, and nothing is sent inside a transaction."""

import re
import socketserver
import threading

import pytest
from django.core.mail.backends.smtp import EmailBackend
from django.db import connection

from events.models import Claim
from events.services import events_consume
from registry.models import Membership
from webhooks.models import EventType, WebhookDelivery

from .conftest import send
from .factories import AccountFactory, OrganizationFactory, WebhookEndpointFactory, member

pytestmark = pytest.mark.django_db(transaction=True)
REFUSED = "trader@lakeshore.example"


class SmtpServer(socketserver.ThreadingTCPServer):
    """Enough of SMTP for Django's backend: refuses every RCPT TO `refused`, keeps what it accepts."""

    daemon_threads = allow_reuse_address = True

    def __init__(self, refused: str):
        super().__init__(("127.0.0.1", 0), SmtpSession)
        self.refused, self.accepted = refused, []  # accepted: one list of recipients per message
        threading.Thread(target=self.serve_forever, daemon=True).start()


class SmtpSession(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 test ESMTP")
        recipients, in_data = [], False
        for raw in self.rfile:
            if in_data:
                if raw.rstrip(b"\r\n") == b".":
                    self.server.accepted.append(recipients)
                    recipients, in_data = [], False
                    self.reply("250 Accepted")
                continue
            command = raw.decode().strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-test")
                self.reply("250 8BITMIME")
            elif verb == "RCPT":
                address = re.search(r"<(.*)>", command).group(1)
                if address == self.server.refused:
                    self.reply("550 5.1.1 No such user here")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                in_data = True
                self.reply("354 Go ahead")
            elif verb == "RSET":
                recipients = []
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:  # HELO, MAIL, NOOP
                self.reply("250 OK")


sent_inside_a_transaction = []


class WatchedSmtpBackend(EmailBackend):
    """Django's SMTP backend, noting whether it was ever called with a transaction open."""

    def send_messages(self, email_messages):
        sent_inside_a_transaction.append(connection.in_atomic_block)
        return super().send_messages(email_messages)


@pytest.fixture
def smtp(settings):
    server = SmtpServer(refused=REFUSED)
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.WatchedSmtpBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": server.server_address[1]}}}
    sent_inside_a_transaction.clear()
    yield server
    server.shutdown()
    server.server_close()


def test_an_always_refused_address_delays_no_other_email_and_no_webhook(
        settings, smtp, no_wakeups, issue, trader, org, counterparty, counterparty_trader):
    settings.EVENTS_MAX_ATTEMPTS = 2
    assert counterparty_trader.email == REFUSED  # Lakeshore's only trader: every email to it is refused
    northstar = OrganizationFactory(name="Northstar REC Brokers")
    AccountFactory(organization=northstar, name="Northstar active")
    northstar_trader = member(northstar, Membership.Role.TRADER, email="trader@northstar.example")
    WebhookEndpointFactory(organization=counterparty, event_types=[EventType.TRANSFER_PENDING])

    to_refused = send(issue(100), trader, org, counterparty)  # first: its event comes before the other
    send(issue(100), trader, org, northstar)

    assert events_consume(consumer="emails") == 1  # the later transfer's emails went out
    assert [trader.email] in smtp.accepted and [northstar_trader.email] in smtp.accepted
    assert not any(REFUSED in recipients for recipients in smtp.accepted)
    [failed] = Claim.objects.filter(consumer="emails")
    assert failed.event.subject_id == to_refused.pk and "No such user here" in failed.last_error

    assert events_consume(consumer="webhooks") == 2  # the refused email held no delivery back
    assert WebhookDelivery.objects.get().payload["data"]["transfer"]["id"] == to_refused.pk

    send(issue(100), trader, org, northstar)  # a later email goes out at once
    accepted = len(smtp.accepted)
    assert events_consume(consumer="emails") == 1 and len(smtp.accepted) == accepted + 2

    events_consume(consumer="emails", now=failed.due_at)  # its second and last attempt
    assert Claim.objects.get(consumer="emails").set_aside_at is not None
    assert sent_inside_a_transaction and not any(sent_inside_a_transaction)
