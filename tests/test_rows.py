"""utilities.rows: instances read by statements written once, as the ORM would."""

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from certificates.models import CertificateBatch
from registry.auth import RegistryBackend
from registry.models import Membership, User
from transfers.models import Transfer
from utilities.rows import Columns, pipelined, select_models

from .factories import OrganizationFactory, member


def field_values(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_instances_are_those_the_orm_reads(trader, org, batch):
    draft = Transfer.objects.create(organization=org, created_by=trader, draft={"lines": [[batch.pk, 5]], "step": 2})
    transfer = Columns(Transfer, "t")
    (found,), = select_models(f"SELECT {transfer.sql} FROM {transfer.table} WHERE t.id = %s", [draft.pk], transfer)
    assert field_values(found) == field_values(Transfer.objects.get(pk=draft.pk))
    assert found.draft == {"lines": [[batch.pk, 5]], "step": 2} and not found._state.adding

    batches, accounts = Columns(CertificateBatch, "b"), Columns(Account, "a")
    (read_batch, account), = select_models(
        f"SELECT {batches.sql}, {accounts.sql} FROM {batches.table} JOIN {accounts.table} ON a.id = b.account_id "
        "WHERE b.id = %s", [batch.pk], batches, accounts)
    for got, orm in [(read_batch, batch), (account, batch.account)]:
        orm.refresh_from_db()
        assert field_values(got) == field_values(orm), type(orm)


@pytest.mark.django_db(transaction=True)  # autocommit, as a request runs them
def test_statements_sent_together_fail_as_django_errors_and_leave_the_connection_usable(trader):
    with pytest.raises(DatabaseError), connection.cursor() as first, connection.cursor() as second:
        with pipelined():
            first.execute("SELECT id FROM registry_user WHERE id = %s", [trader.pk])
            second.execute("SELECT no_such_column FROM registry_user")
            first.fetchall(), second.fetchall()
    columns = Columns(User, "u")
    assert select_models(f"SELECT {columns.sql} FROM {columns.table} WHERE u.id = %s", [trader.pk], columns
                         )[0][0] == trader


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
