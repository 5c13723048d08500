"""utilities.rows: instances read by statements written once, as the ORM would."""

import pytest
from django.db import DatabaseError, connection

from accounts.models import Account
from certificates.models import CertificateBatch
from registry.models import User
from transfers.models import Transfer
from utilities.rows import Columns, RoundTrip, pipelined, select_models


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


def test_a_round_trip_runs_its_statements_in_the_order_added_and_gives_each_its_answer(trader):
    trip = RoundTrip()
    trip.add("SET LOCAL application_name = 'round trip'", read=None)
    name = trip.add("SELECT current_setting('application_name')")
    email = trip.add("SELECT email FROM registry_user WHERE id = %s", [trader.pk], read=lambda rows: rows[0][0])
    assert name.value is None and email.value is None  # nothing is read before the trip is sent
    trip.send()
    assert name.value == [("round trip",)] and email.value == trader.email
