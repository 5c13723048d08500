"""Organizations run themselves: a manager invites people by email with a role, changes roles and
removes members; the organization always keeps a manager; every change is a ledger event."""

import datetime
import html
import re
import time
from urllib.parse import quote

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from ledger.models import LedgerEvent
from registry.models import Invitation, Membership, User
from registry.services import invitation_create

from .conftest import signed_in_as
from .factories import MembershipFactory, OrganizationFactory, UserFactory

# Committed for real: the invitation email goes after the commit, as in the portal.
pytestmark = pytest.mark.django_db(transaction=True)

MEMBERS = "/organization/members/"
LINK = re.compile(r"http://testserver(/invitations/[^/\s]+/)")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "http://testserver"  # links in emails point at the portal the tests' client reaches


@pytest.fixture
def emails():
    """The emails sent during the test."""
    mail.outbox.clear()
    return mail.outbox


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def invite(client, email="newcomer@prairiewind.example", role="trader"):
    return client.post(MEMBERS, {"email": email, "role": role})


def link_in(message) -> str:
    return LINK.search(message.body).group(1)


def unchanged():
    """What a refused request must leave as it was."""
    return (LedgerEvent.objects.count(), sorted(Membership.objects.values_list("pk", "user_id", "role")),
            sorted(Invitation.objects.values_list("pk", "status", "token_hash", "expires_at")), User.objects.count())


# Invitations

def test_a_manager_invites_by_email_with_a_role_and_only_a_hash_of_the_link_is_kept(
        manager, org, emails):
    response = invite(signed_in_as(manager))
    assert response.status_code == 302 and response.url == MEMBERS
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.status) == (
        "newcomer@prairiewind.example", "trader", "pending")
    assert invitation.expires_at - invitation.sent_at == datetime.timedelta(days=7)
    [message] = emails
    assert message.to == ["newcomer@prairiewind.example"]
    assert "join Prairie Wind Energy" in message.subject
    assert f"invites you to join Prairie Wind Energy ({org.public_id}) as a trader" in message.body
    token = link_in(message).split("/")[2]
    assert token not in str(Invitation.objects.values().get())  # the database holds no copy of the link
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.MEMBER_INVITED)
    assert (event.actor, event.organization, event.after["email"]) == (manager, org, "newcomer@prairiewind.example")
    page = signed_in_as(manager).get(MEMBERS).content.decode()
    assert "newcomer@prairiewind.example" in page and "Pending invitations" in page


def test_the_invitee_sets_a_name_and_password_and_joins_with_the_role_once(manager, org, emails, client):
    invite(signed_in_as(manager), role="viewer")
    link = link_in(emails[0])
    page = client.get(link)
    assert page.status_code == 200 and "Join Prairie Wind Energy" in page.content.decode()
    response = client.post(link, {"full_name": "Nia Newcomer", "new_password1": "wind-farm-ledger-9",
                                  "new_password2": "wind-farm-ledger-9"})
    assert response.status_code == 302 and response.url == reverse("login")
    user = User.objects.get(email="newcomer@prairiewind.example")
    assert user.full_name == "Nia Newcomer" and user.check_password("wind-farm-ledger-9")
    assert Membership.objects.get(user=user, organization=org).role == "viewer"
    invitation = Invitation.objects.get()
    assert (invitation.status, invitation.accepted_by) == ("accepted", user)
    joined = LedgerEvent.objects.get(kind=LedgerEvent.Kind.MEMBER_JOINED)
    assert (joined.actor, joined.after["role"]) == (user, "viewer")
    [changed] = Event.objects.filter(kind=Event.Kind.MEMBER_CHANGED)  # the domain event, for its consumers
    assert (changed.organization_id, changed.subject_id, changed.data) == (
        org.pk, user.pk, {"change": "joined", "role": "viewer", "by": user.pk})

    before = unchanged()
    again = client.post(link, {"full_name": "Someone Else", "new_password1": "another-pass-42",
                               "new_password2": "another-pass-42"})
    assert again.status_code == 404
    assert "This invitation has already been used." in again.content.decode()
    assert unchanged() == before


def test_a_weak_or_mismatched_password_is_refused_by_djangos_validators(manager, emails, client):
    invite(signed_in_as(manager))
    link = link_in(emails[0])
    before = unchanged()
    for password1, password2, error in [
            ("short", "short", "This password is too short."),
            ("12345678901", "12345678901", "This password is entirely numeric."),
            ("wind-farm-ledger-9", "wind-farm-ledger-8", "The two password fields didn"),
            ("newcomer-prairiewind", "newcomer-prairiewind", "too similar to the email")]:
        response = client.post(link, {"full_name": "Nia", "new_password1": password1, "new_password2": password2})
        assert response.status_code == 200
        assert error in page_text(response), error
    response = client.post(link, {"full_name": "", "new_password1": "wind-farm-ledger-9",
                                  "new_password2": "wind-farm-ledger-9"})
    assert "Enter your name." in response.content.decode()
    assert unchanged() == before


def test_a_tampered_link_is_refused(manager, emails, client):
    invite(signed_in_as(manager))
    link = link_in(emails[0])
    before = unchanged()
    changed_end = link[:-3] + ("yy/" if link.endswith("xx/") else "xx/")  # the token's last two characters
    for tampered in (changed_end, link.replace("/invitations/", "/invitations/A"), "/invitations/nothing/"):
        response = client.get(tampered)
        assert response.status_code == 404
        assert "This invitation link is not valid." in response.content.decode()
        assert client.post(tampered, {"full_name": "Mallory", "new_password1": "wind-farm-ledger-9",
                                      "new_password2": "wind-farm-ledger-9"}).status_code == 404
    assert unchanged() == before


def test_an_expired_link_is_refused(manager, emails, client, monkeypatch):
    invite(signed_in_as(manager))
    link = link_in(emails[0])
    before = unchanged()
    eight_days_on = time.time() + 8 * 86400
    monkeypatch.setattr(time, "time", lambda: eight_days_on)  # the signature's age
    response = client.get(link)
    assert response.status_code == 404 and "This invitation has expired." in response.content.decode()
    monkeypatch.undo()
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))  # the stored expiry
    response = client.post(link, {"full_name": "Late", "new_password1": "wind-farm-ledger-9",
                                  "new_password2": "wind-farm-ledger-9"})
    assert response.status_code == 404 and "This invitation has expired." in response.content.decode()
    ledger_events, _, _, users = before
    assert (LedgerEvent.objects.count(), User.objects.count()) == (ledger_events, users)
    assert Invitation.objects.get().status == "pending"
    assert not User.objects.filter(email="newcomer@prairiewind.example").exists()


def test_a_revoked_invitation_no_longer_opens(manager, org, emails, client):
    manager_client = signed_in_as(manager)
    invite(manager_client)
    link = link_in(emails[0])
    invitation = Invitation.objects.get()
    response = manager_client.post(reverse("members:revoke", args=[invitation.pk]), follow=True)
    assert "The invitation to newcomer@prairiewind.example was withdrawn" in response.content.decode()
    assert Invitation.objects.get().status == "revoked"
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.INVITATION_REVOKED, actor=manager).exists()
    response = client.get(link)
    assert response.status_code == 404
    assert "This invitation was withdrawn by Prairie Wind Energy." in response.content.decode()
    again = manager_client.post(reverse("members:revoke", args=[invitation.pk]), follow=True)
    assert "The invitation to newcomer@prairiewind.example was already revoked." in again.content.decode()


def test_a_resent_invitation_has_a_new_link_and_the_old_one_stops_working(manager, emails, client):
    manager_client = signed_in_as(manager)
    invite(manager_client)
    first = link_in(emails[0])
    invitation = Invitation.objects.get()
    manager_client.post(reverse("members:resend", args=[invitation.pk]))
    second = link_in(emails[1])
    assert first != second and emails[1].to == ["newcomer@prairiewind.example"]
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.INVITATION_RESENT).count() == 1
    old = client.get(first)
    assert old.status_code == 404 and "replaced by a newer one" in old.content.decode()
    assert client.get(second).status_code == 200


def test_inviting_a_member_or_an_address_already_invited_is_refused(manager, trader, emails):
    manager_client = signed_in_as(manager)
    before = unchanged()
    response = invite(manager_client, email=trader.email.upper())
    assert response.status_code == 200
    assert "trader@prairiewind.example is already a member of Prairie Wind Energy." in response.content.decode()
    assert unchanged() == before and emails == []
    invite(manager_client)
    before = unchanged()
    response = invite(manager_client, role="manager")
    assert "newcomer@prairiewind.example has already been invited; resend that invitation" in response.content.decode()
    assert unchanged() == before and len(emails) == 1


def test_bad_invitation_input_is_explained(manager, emails):
    manager_client = signed_in_as(manager)
    before = unchanged()
    page = invite(manager_client, email="not an address").content.decode()
    assert "Enter a valid email address, like name@example.com." in page
    page = invite(manager_client, role="owner").content.decode()
    assert "Choose a role: manager, trader or viewer." in page
    assert unchanged() == before and emails == []


def test_someone_with_an_account_signs_in_and_joins(manager, org, emails, outsider):
    invite(signed_in_as(manager), email=outsider.email, role="trader")
    link = link_in(emails[0])
    assert "Sign in with your account for outsider@elsewhere.example" in emails[0].body
    anonymous = Client()
    page = anonymous.get(link).content.decode()
    assert "You already have an account for outsider@elsewhere.example" in page
    assert f"/login/?next={quote(link)}" in page
    assert anonymous.post(link).status_code == 200  # not signed in: nothing joins
    assert not Membership.objects.filter(user=outsider, organization=org).exists()

    response = signed_in_as(outsider).post(link)
    assert response.status_code == 302 and response.url == reverse("dashboard:certificates")
    assert Membership.objects.get(user=outsider, organization=org).role == "trader"
    assert Membership.objects.filter(user=outsider).count() == 2  # still in their own organization too


def test_an_invitation_for_someone_else_is_refused_to_the_signed_in_user(manager, trader, emails):
    invite(signed_in_as(manager))
    link = link_in(emails[0])
    before = unchanged()
    page = signed_in_as(trader).post(link, {"full_name": "T", "new_password1": "wind-farm-ledger-9",
                                         "new_password2": "wind-farm-ledger-9"}).content.decode()
    assert ("This invitation is for newcomer@prairiewind.example, but you are signed in as "
            "trader@prairiewind.example") in page
    assert unchanged() == before


# Members

def test_a_manager_changes_a_role_and_it_is_recorded(manager, trader, org):
    membership = Membership.objects.get(user=trader)
    response = signed_in_as(manager).post(reverse("members:role", args=[membership.pk]), {"role": "viewer"},
                                          follow=True)
    assert "trader@prairiewind.example is now a viewer." in response.content.decode()
    assert Membership.objects.get(pk=membership.pk).role == "viewer"
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.MEMBER_ROLE_CHANGED)
    assert (event.actor, event.organization) == (manager, org)
    assert (event.before["role"], event.after["role"], event.after["email"]) == ("trader", "viewer", trader.email)
    assert event.occurred_at is not None
    [changed] = Event.objects.filter(kind=Event.Kind.MEMBER_CHANGED)
    assert (changed.organization_id, changed.subject_id, changed.data) == (
        org.pk, trader.pk, {"change": "role_changed", "role": "viewer", "by": manager.pk})


def test_a_bad_role_is_refused(manager, trader):
    membership = Membership.objects.get(user=trader)
    before = unchanged()
    response = signed_in_as(manager).post(reverse("members:role", args=[membership.pk]), {"role": "owner"}, follow=True)
    assert "Choose a role: manager, trader or viewer." in response.content.decode()
    assert unchanged() == before


def test_the_last_manager_can_be_neither_demoted_nor_removed(manager, trader):
    own = Membership.objects.get(user=manager)
    client = signed_in_as(manager)
    before = unchanged()
    response = client.post(reverse("members:role", args=[own.pk]), {"role": "trader"}, follow=True)
    assert ("manager@prairiewind.example is the organization's only manager and cannot be demoted; "
            "make someone else a manager first.") in page_text(response)
    response = client.post(reverse("members:remove", args=[own.pk]), follow=True)
    assert "is the organization's only manager and cannot be removed" in page_text(response)
    assert unchanged() == before
    # With a second manager, either may step down.
    client.post(reverse("members:role", args=[Membership.objects.get(user=trader).pk]), {"role": "manager"})
    client.post(reverse("members:role", args=[own.pk]), {"role": "viewer"})
    assert Membership.objects.get(pk=own.pk).role == "viewer"


def test_a_removed_member_loses_access_at_once(manager, trader, org):
    member_client = Client()
    member_client.force_login(trader)
    assert member_client.get("/certificates/").status_code == 200
    elsewhere = Client()  # the same person signed in from another device
    elsewhere.force_login(trader)
    other_session = Client()
    other_session.force_login(manager)
    membership = Membership.objects.get(user=trader)
    confirm = signed_in_as(manager).get(reverse("members:remove", args=[membership.pk])).content.decode()
    assert "Remove" in confirm and "signed out of it at once" in confirm
    response = signed_in_as(manager).post(reverse("members:remove", args=[membership.pk]), follow=True)
    assert "trader@prairiewind.example was removed from Prairie Wind Energy" in response.content.decode()
    assert not Membership.objects.filter(pk=membership.pk).exists()
    for device in (member_client, elsewhere):
        response = device.get("/certificates/")
        assert response.status_code == 302 and response.url.startswith("/login/")
    assert other_session.get("/certificates/").status_code == 200  # nobody else is signed out
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.MEMBER_REMOVED)
    assert (event.actor, event.before["email"], event.before["role"]) == (manager, trader.email, "trader")
    [changed] = Event.objects.filter(kind=Event.Kind.MEMBER_CHANGED)
    assert (changed.organization_id, changed.subject_id, changed.data) == (
        org.pk, trader.pk, {"change": "removed", "role": "trader", "by": manager.pk})


def test_removal_ends_only_the_sessions_in_that_organization(manager, trader, org, counterparty):
    MembershipFactory(user=trader, organization=counterparty, role="viewer")
    in_counterparty = Client()
    in_counterparty.force_login(trader)
    in_counterparty.post("/organization/", {"organization": counterparty.pk})
    in_ours = Client()
    in_ours.force_login(trader)
    in_ours.post("/organization/", {"organization": org.pk})
    ours = Membership.objects.get(user=trader, organization=org)
    signed_in_as(manager).post(reverse("members:remove", args=[ours.pk]))
    assert in_ours.get("/certificates/").status_code == 302
    assert in_counterparty.get("/certificates/").status_code == 200
    assert Session.objects.count() == 2  # the manager's and the counterparty one


# Who may do what

def test_traders_and_viewers_are_refused_every_manager_page(manager, trader, viewer, emails):
    invite(signed_in_as(manager))
    invitation = Invitation.objects.get()
    target = Membership.objects.get(user=manager)
    before = unchanged()
    for user in (trader, viewer):
        client = signed_in_as(user)
        assert client.get(MEMBERS).status_code == 403
        assert invite(client, email="x@example.org").status_code == 403
        assert client.post(reverse("members:role", args=[target.pk]), {"role": "viewer"}).status_code == 403
        assert client.get(reverse("members:remove", args=[target.pk])).status_code == 403
        assert client.post(reverse("members:remove", args=[target.pk])).status_code == 403
        assert client.post(reverse("members:resend", args=[invitation.pk])).status_code == 403
        assert client.post(reverse("members:revoke", args=[invitation.pk])).status_code == 403
        assert "Members</a>" not in client.get("/accounts/").content.decode()
    assert unchanged() == before and len(emails) == 1
    assert 'href="/organization/members/"' in signed_in_as(manager).get("/accounts/").content.decode()


def test_another_organizations_members_and_invitations_are_not_found(manager, trader, outsider, emails):
    invite(signed_in_as(manager))
    invitation = Invitation.objects.get()
    target = Membership.objects.get(user=trader)
    client = signed_in_as(outsider)  # a manager, of another organization
    before = unchanged()
    assert client.post(reverse("members:role", args=[target.pk]), {"role": "viewer"}).status_code == 404
    assert client.get(reverse("members:remove", args=[target.pk])).status_code == 404
    assert client.post(reverse("members:remove", args=[target.pk])).status_code == 404
    assert client.post(reverse("members:resend", args=[invitation.pk])).status_code == 404
    assert client.post(reverse("members:revoke", args=[invitation.pk])).status_code == 404
    page = client.get(MEMBERS).content.decode()
    assert trader.email not in page and "newcomer@prairiewind.example" not in page
    assert unchanged() == before and len(emails) == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, manager):
    response = client.get(MEMBERS)
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_the_members_page_lists_members_and_their_roles(manager, trader, viewer):
    page = signed_in_as(manager).get(MEMBERS).content.decode()
    for user in (manager, trader, viewer):
        assert user.email in page and user.full_name in page
    assert page.index(manager.email) < page.index(trader.email) < page.index(viewer.email)


def test_the_service_refuses_a_non_manager(trader, org):
    from registry.services import ServiceError

    with pytest.raises(ServiceError, match="Only a manager of Prairie Wind Energy may do this."):
        invitation_create(organization=org, invited_by=trader, email="a@example.org", role="viewer")


# Onboarding in the admin

def test_staff_onboard_an_organization_by_inviting_its_first_manager(client, emails):
    staff = UserFactory(email="admin@registry.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.post(reverse("admin:registry_organization_add"), {
        "name": "Red River Solar Cooperative", "contact_email": "registry@redriver.example", "billing_tier": "small",
        "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0})
    organization = OrganizationFactory._meta.model.objects.get(name="Red River Solar Cooperative")
    invite_url = reverse("admin:registry_organization_invite", args=[organization.pk])
    assert response.status_code == 302 and response.url == invite_url
    page = client.get(invite_url).content.decode()
    assert 'value="registry@redriver.example"' in page and "no password is set or sent by registry staff" in page
    response = client.post(invite_url, {"email": "ceo@redriver.example"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=organization)
    assert (invitation.email, invitation.role, invitation.invited_by) == ("ceo@redriver.example", "manager", staff)
    [message] = emails
    assert message.to == ["ceo@redriver.example"] and "as a manager" in message.body
    refused = client.post(invite_url, {"email": "ceo@redriver.example"}).content.decode()
    assert "ceo@redriver.example has already been invited" in refused
    assert Invitation.objects.count() == 1


def test_the_first_manager_then_invites_the_rest(client, emails):
    organization = OrganizationFactory(name="Red River Solar Cooperative")
    staff = UserFactory(is_staff=True)
    invitation_create(organization=organization, invited_by=staff, email="ceo@redriver.example", role="manager")
    link = link_in(emails[0])
    client.post(link, {"full_name": "Rae River", "new_password1": "wind-farm-ledger-9",
                       "new_password2": "wind-farm-ledger-9"})
    ceo = User.objects.get(email="ceo@redriver.example")
    client.force_login(ceo)
    assert client.get(MEMBERS).status_code == 200
    assert invite(client, email="trader@redriver.example").status_code == 302
    assert Invitation.objects.filter(email="trader@redriver.example", invited_by=ceo).exists()
