"""Who the portal is for: a signed-in user who is a member of no organization (registry staff, or
someone not yet added) is sent to the admin site or told whom to ask, never shown a 404."""

import pytest
from django.urls import reverse

from registry.models import Membership

from .factories import UserFactory

pytestmark = pytest.mark.django_db

PORTAL_PAGES = ["/", reverse("dashboard:certificates"), reverse("accounts:list"), reverse("mass_uploads:uploads")]


@pytest.mark.parametrize("path", PORTAL_PAGES)
def test_staff_without_a_membership_opening_the_portal_go_to_the_admin(client, staff, path):
    client.force_login(staff)
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_staff_signing_in_on_the_portal_land_on_the_admin(client, staff):
    response = client.post(reverse("login"), {"username": staff.email, "password": "demo"}, follow=True)
    assert response.redirect_chain[-1] == (reverse("admin:index"), 302)
    assert response.status_code == 200 and "Registry administration" in response.content.decode()


def test_staff_who_are_also_members_use_the_portal(client, staff, org):
    Membership.objects.create(user=staff, organization=org, role=Membership.Role.VIEWER)
    client.force_login(staff)
    assert client.get("/")["Location"] == reverse("dashboard:certificates")
    assert client.get(reverse("dashboard:certificates")).status_code == 200


@pytest.mark.parametrize("path", PORTAL_PAGES)
def test_a_user_in_no_organization_is_told_the_portal_is_for_participants_and_whom_to_ask(client, path):
    user = UserFactory(email="newcomer@example.org")
    client.force_login(user)
    response = client.get(path)
    page = response.content.decode()
    assert response.status_code == 403
    assert "This portal is for the registry's participants" in page
    assert "ask one of its managers to add you" in page and "registry staff" in page
    assert "newcomer@example.org" in page and "Sign out" in page  # in the portal's layout
    assert reverse("accounts:list") not in page  # no links to pages that would only say this again


def test_signed_out_visitors_still_go_to_sign_in(client):
    assert client.get("/")["Location"] == reverse("login")
