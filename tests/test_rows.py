"""registry.rows: instances read and rows written by statements written once, as the ORM would."""

import pytest
from django.db import DatabaseError, connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.auth import RegistryBackend
from registry.models import Membership, User
from registry.rows import Columns, insert_where, select_models, select_models_together, update_where
from registry.services import ROLE_CONDITION, role_params
from transfers import wizard
from transfers.models import Transfer

from .factories import OrganizationFactory, member


def field_values(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_instances_are_those_the_orm_reads(trader, org, batch):
    draft = Transfer.objects.create(organization=org, created_by=trader, draft={"lines": [[batch.pk, 5]], "step": 2})
    (found,), = select_models(wizard.DRAFT_SQL, [draft.pk, org.pk, trader.pk], wizard._TRANSFER)
    assert field_values(found) == field_values(Transfer.objects.get(pk=draft.pk))
    assert found.draft == {"lines": [[batch.pk, 5]], "step": 2} and not found._state.adding

    rows = select_models(wizard.DRAFT_BATCHES_SQL, [org.pk, [batch.pk]], wizard._BATCH, wizard._CERTIFICATE,
                         wizard._GENERATOR, wizard._ACCOUNT)
    (read_batch, certificate, generator, account), = rows
    for got, orm in [(read_batch, batch), (certificate, batch.certificate), (generator, batch.certificate.generator),
                     (account, batch.account)]:
        orm.refresh_from_db()
        assert field_values(got) == field_values(orm), type(orm)


def test_another_organizations_draft_and_batches_are_not_read(trader, org, batch, outsider):
    draft = Transfer.objects.create(organization=org, created_by=trader, draft={"lines": [[batch.pk, 5]]})
    other = outsider.memberships.get().organization
    scope = [draft.pk, other.pk, outsider.pk]
    found, batches = select_models_together(
        (wizard.DRAFT_SQL, scope, (wizard._TRANSFER,)),
        (wizard.BATCHES_OF_DRAFT_SQL, [other.pk, *scope], (wizard._BATCH, wizard._CERTIFICATE, wizard._GENERATOR,
                                                           wizard._ACCOUNT)))
    assert (found, batches) == ([], [])
    assert select_models(wizard.DRAFT_BATCHES_SQL, [other.pk, [batch.pk]], wizard._BATCH, wizard._CERTIFICATE,
                         wizard._GENERATOR, wizard._ACCOUNT) == []


@pytest.mark.django_db(transaction=True)  # autocommit, as a request runs them
def test_statements_sent_together_fail_as_django_errors_and_leave_the_connection_usable(trader):
    columns = Columns(User, "u")
    with pytest.raises(DatabaseError):
        select_models_together((f"SELECT {columns.sql} FROM {columns.table} WHERE u.id = %s", [trader.pk], (columns,)),
                               ("SELECT no_such_column FROM registry_user", [], ()))
    assert select_models(f"SELECT {columns.sql} FROM {columns.table} WHERE u.id = %s", [trader.pk], columns
                         )[0][0] == trader


def test_update_where_is_a_compare_and_swap(trader, org, account):
    draft = Transfer.objects.create(organization=org, created_by=trader)
    draft.status, draft.kind, draft.destination_account = Transfer.Status.COMPLETE, Transfer.Kind.INTERNAL, account
    assert update_where(draft, ["status", "kind", "destination_account"], status=Transfer.Status.DRAFT) == 1
    saved = Transfer.objects.get(pk=draft.pk)
    assert (saved.status, saved.kind, saved.destination_account_id) == ("complete", "internal", account.pk)
    draft.status = Transfer.Status.FAILED  # the condition no longer holds: nothing is written
    assert update_where(draft, ["status"], status=Transfer.Status.DRAFT) == 0
    assert Transfer.objects.get(pk=draft.pk).status == Transfer.Status.COMPLETE


def test_insert_where_writes_only_when_its_condition_holds(trader, viewer, org):
    draft = Transfer(organization=org, created_by=trader, draft={"lines": [[1, 2]], "step": 1})
    assert insert_where(draft, ROLE_CONDITION, role_params(user=trader, organization=org))
    assert model_to_dict(Transfer.objects.get(pk=draft.pk)) == model_to_dict(draft)
    refused = Transfer(organization=org, created_by=viewer, draft={})
    assert not insert_where(refused, ROLE_CONDITION, role_params(user=viewer, organization=org))
    assert refused.pk is None and Transfer.objects.count() == 1


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
