"""Who is signed in and for which organization: the user and memberships read in one query
(registry.auth), and the current organization on every request (registry.middleware)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.auth import RegistryBackend
from registry.models import Membership, User

from .factories import OrganizationFactory, member


def test_the_user_and_their_memberships_are_one_query(trader, org):
    other = OrganizationFactory(name="Another Wind")
    Membership.objects.create(user=trader, organization=other, role=Membership.Role.VIEWER)
    with CaptureQueriesContext(connection) as queries:
        user = RegistryBackend().get_user(trader.pk)
    assert len(queries) == 1 and user == trader
    assert [(m.organization.name, m.role, m.user is user) for m in user.loaded_memberships] == [
        ("Another Wind", "viewer", True), ("Prairie Wind Energy", "trader", True)]


def test_inactive_users_and_staff_without_memberships(trader, staff):
    trader.is_active = False
    trader.save()
    assert RegistryBackend().get_user(trader.pk) is None
    assert RegistryBackend().get_user(staff.pk).loaded_memberships == []
    assert RegistryBackend().get_user(10**9) is None


def test_a_request_reads_user_and_membership_once_and_sees_a_role_change_at_once(client, org, trader):
    client.force_login(trader)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("transfers:organization_search"), {"organization": ""})
    assert response.status_code == 200 and len(queries) == 2  # the session's row, then user and memberships
    assert type(response.wsgi_request.user) is User  # not a lazy proxy
    assert response.wsgi_request.membership.organization == org
    Membership.objects.filter(user=trader).update(role=Membership.Role.VIEWER)
    assert client.get(reverse("transfers:organization_search")).status_code == 403
    Membership.objects.filter(user=trader).delete()
    assert client.get(reverse("transfers:organization_search")).status_code == 403  # not a participant


def test_a_member_of_two_organizations_works_in_the_one_chosen(client, org, trader):
    other = OrganizationFactory(name="Zephyr Solar")
    member(other, Membership.Role.TRADER, email="someone@zephyr.example")
    Membership.objects.create(user=trader, organization=other, role=Membership.Role.MANAGER)
    client.force_login(trader)
    assert client.get(reverse("transfers:organization_search")).wsgi_request.membership.organization == org
    session = client.session
    session["organization_id"] = other.pk
    session.save()
    assert client.get(reverse("transfers:organization_search")).wsgi_request.membership.organization == other


def test_choosing_another_organization_leaves_what_was_chosen_in_the_first_behind(trader, org):
    """registry.services.organization_choose, which the switcher and a joining invitation both call."""
    from django.contrib.sessions.backends.db import SessionStore

    from certificates.selectors import SELECTION_KEY
    from registry.selectors import SESSION_KEY
    from registry.services import organization_choose

    current = trader.memberships.get()
    other = Membership.objects.create(user=trader, organization=OrganizationFactory(name="Another Wind"),
                                      role=Membership.Role.VIEWER)
    session = SessionStore()
    session[SELECTION_KEY] = [1, 2]
    organization_choose(session=session, membership=current, current=current)  # the same: kept
    assert (session[SESSION_KEY], session[SELECTION_KEY]) == (org.pk, [1, 2])
    organization_choose(session=session, membership=other, current=current)
    assert session[SESSION_KEY] == other.organization_id and SELECTION_KEY not in session
