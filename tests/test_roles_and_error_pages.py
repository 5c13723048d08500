"""What a read-only role is told, and the 403 and 404 pages: in the portal's own layout, saying what
happened and where to go (issue 17 item 5). Django renders templates/403.html and 404.html only with
DEBUG off, as here."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create
from mass_uploads.validation import COLUMNS
from registry.models import Membership

from .conftest import send
from .factories import member

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard:certificates")
VIEWER_NOTE = "Your role (viewer) can see and download certificates; a manager or trader can transfer them."


@pytest.fixture(autouse=True)
def debug_off(settings):
    settings.DEBUG = False


def in_portal_layout(content: str) -> bool:
    return 'href="/static/css/registry.css"' in content and '<header class="topbar">' in content


def test_roles_that_transfer_are_worded_from_their_one_definition():
    assert Membership.roles_that_transfer_text() == "a manager or trader"


@pytest.mark.parametrize("tab", ["active", "pending", "retired", "exported", "transactions"])
def test_a_viewer_is_told_on_every_tab_what_their_role_allows(signed_in, viewer, trader, holdings, tab):
    assert VIEWER_NOTE in signed_in(viewer).get(DASHBOARD, {"tab": tab}).content.decode()
    assert "Your role" not in signed_in(trader).get(DASHBOARD, {"tab": tab}).content.decode()


def test_a_viewer_is_offered_no_upload_and_the_mass_page_says_who_can(signed_in, viewer, trader, holdings):
    upload_link = f'href="{reverse("mass_uploads:uploads")}">Upload</a>'
    assert upload_link not in signed_in(viewer).get(DASHBOARD).content.decode()
    page = signed_in(viewer).get(reverse("mass_uploads:uploads")).content.decode()
    assert "Your role (viewer) can see and download certificates; a manager or trader can upload mass " \
           "transfers." in page
    assert 'type="file"' not in page
    assert upload_link in signed_in(trader).get(DASHBOARD).content.decode()
    assert "Your role" not in signed_in(trader).get(reverse("mass_uploads:uploads")).content.decode()


def test_a_viewer_is_told_why_a_pending_transfer_offers_no_decision(signed_in, trader, org, batch, counterparty):
    transfer = send(batch, trader, org, counterparty)
    for user in (member(counterparty, Membership.Role.VIEWER), member(org, Membership.Role.VIEWER)):
        page = signed_in(user).get(reverse("transfers:detail", args=[transfer.pk])).content.decode()
        assert "a manager or trader can accept, reject or withdraw a pending transfer." in page
        assert "/accept/" not in page and "/reject/" not in page and "/withdraw/" not in page
        pending_tab = signed_in(user).get(DASHBOARD, {"tab": "pending"}).content.decode()
        assert f"Transfer {transfer.pk}" in pending_tab and VIEWER_NOTE in pending_tab
        assert "/accept/" not in pending_tab and "/reject/" not in pending_tab and "/withdraw/" not in pending_tab


def test_a_viewer_is_told_who_may_process_an_upload_held_as_a_duplicate(signed_in, viewer, trader, org, batch,
                                                                       second_account, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = (",".join(COLUMNS) + f"\r\n{batch.serial_number},5,,{second_account.public_id},\r\n").encode()
    for _ in range(2):
        held = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("t.csv", content))
    assert held.status == MassTransferUpload.Status.HELD
    page = signed_in(viewer).get(reverse("mass_uploads:detail", args=[held.pk])).content.decode()
    assert "Your role (viewer) can see and download certificates; a manager or trader can process or discard it." \
           in page
    assert 'value="process"' not in page


@pytest.mark.parametrize("action", ["wizard", "accept", "reject", "withdraw", "upload"])
def test_a_viewer_opening_a_page_that_moves_certificates_gets_the_portals_403_naming_who_may(
        signed_in, trader, org, batch, counterparty, action):
    transfer = send(batch, trader, org, counterparty)
    sender_viewer = member(org, Membership.Role.VIEWER)
    recipient_viewer = member(counterparty, Membership.Role.VIEWER)
    client, url = {
        "wizard": (signed_in(sender_viewer), reverse("transfers:new")),
        "accept": (signed_in(recipient_viewer), reverse("transfers:accept", args=[transfer.pk])),
        "reject": (signed_in(recipient_viewer), reverse("transfers:reject", args=[transfer.pk])),
        "withdraw": (signed_in(sender_viewer), reverse("transfers:withdraw", args=[transfer.pk])),
        "upload": (signed_in(sender_viewer), reverse("mass_uploads:uploads")),
    }[action]
    response = client.post(url) if action == "upload" else client.get(url)
    page = response.content.decode()
    assert response.status_code == 403 and in_portal_layout(page)
    assert "<h1>You cannot do this</h1>" in page
    assert ("Your role (viewer) can see and download certificates; a manager or trader can transfer, accept, "
            "reject or withdraw them, and upload mass transfers.") in page
    assert "ask one of its managers" in page
    assert f'href="{DASHBOARD}">Back to your certificates</a>' in page


def test_a_trader_opening_a_managers_page_is_told_as_the_services_tell_it(signed_in, trader):
    response = signed_in(trader).get(reverse("members:list"))
    page = response.content.decode()
    assert response.status_code == 403 and in_portal_layout(page)
    assert "Only a manager of Prairie Wind Energy may do this." in page


def test_a_permission_denied_without_a_reason_still_says_what_happened_and_offers_sign_in():
    request = RequestFactory().get("/somewhere/")
    page = defaults.permission_denied(request, PermissionDenied()).content.decode()
    assert in_portal_layout(page) and "<h1>You cannot do this</h1>" in page
    assert "Your account is not allowed to open this page." in page
    assert f'href="{reverse("login")}?next=/somewhere/">Sign in</a>' in page


def test_an_unknown_address_signed_out_gets_the_portals_404_and_sign_in(client):
    response = client.get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404 and in_portal_layout(page)
    assert "<h1>Page not found</h1>" in page and "<code>/no/such/page/</code>" in page
    assert f'href="{reverse("login")}">Sign in</a>' in page


def test_another_organizations_transfer_is_the_portals_404_with_the_way_back(signed_in, trader, org, batch,
                                                                             counterparty, outsider):
    transfer = send(batch, trader, org, counterparty)
    for url in (reverse("transfers:detail", args=[transfer.pk]), "/transfers/no-such-page/"):
        response = signed_in(outsider).get(url)
        page = response.content.decode()
        assert response.status_code == 404 and in_portal_layout(page)
        assert "<h1>Page not found</h1>" in page and "Outsider Renewables" in page  # the header, signed in
        assert f'href="{DASHBOARD}">Back to your certificates</a>' in page


def test_a_404_raised_before_any_middleware_set_the_membership_still_renders():
    request = RequestFactory().get("/<script>alert(1)</script>")
    page = defaults.page_not_found(request, Http404("No such thing")).content.decode()
    assert "<h1>Page not found</h1>" in page and "<script>alert" not in page
