"""batches_lock sends its statements in one round trip (psycopg's pipeline mode): the batches'
lock, planned once per connection; a transfer adds the destination account's share lock to the same
round trip (batches_lock_in, accounts_lock_for_share_in)."""

import pytest
from django.db import OperationalError, connection, connections, transaction

from accounts.services import accounts_lock_for_share_in
from certificates.services import batches_lock, batches_lock_in
from utilities.rows import RoundTrip

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def other_connection():
    other = connections.create_connection("default")
    yield other
    other.close()


def locked_elsewhere(other, table: str, row_id: int) -> bool:
    """Whether another connection finds the row locked (it asks for it FOR UPDATE NOWAIT)."""
    with other.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [row_id])
            return False
        except OperationalError as error:
            assert "could not obtain lock" in str(error)
            return True
        finally:
            cursor.execute("ROLLBACK")


def test_locks_the_batches_and_share_locks_the_destination_in_the_transaction(
        batch, trader, account, second_account, other_connection):
    with transaction.atomic():
        trip = RoundTrip()
        batches = batches_lock_in(trip, [batch.pk], user_id=trader.pk)
        accounts = accounts_lock_for_share_in(trip, [second_account.pk])
        trip.send()
        locked = batches.value

        assert list(locked) == [batch.pk]
        assert locked[batch.pk].quantity == batch.quantity and locked[batch.pk].user_may_move
        assert accounts.value[second_account.pk]["status"] == "open"
        assert accounts.value[second_account.pk]["organization_id"] == second_account.organization_id
        assert locked_elsewhere(other_connection, "certificates_certificatebatch", batch.pk)
        assert locked_elsewhere(other_connection, "accounts_account", second_account.pk)  # FOR SHARE
        with connection.cursor() as cursor:  # the generic-plan setting ends with the statement
            cursor.execute("SHOW plan_cache_mode")
            assert cursor.fetchone()[0] == "auto"
    assert not locked_elsewhere(other_connection, "certificates_certificatebatch", batch.pk)
    assert not locked_elsewhere(other_connection, "accounts_account", second_account.pk)


def test_a_failure_inside_the_round_trip_arrives_as_djangos_database_error(batch, trader, other_connection):
    with other_connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT id FROM certificates_certificatebatch WHERE id = %s FOR UPDATE", [batch.pk])
        try:
            with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
                with connection.cursor() as own:
                    own.execute("SET LOCAL lock_timeout = '100ms'")
                batches_lock([batch.pk], user_id=trader.pk)
        finally:
            cursor.execute("ROLLBACK")
    with transaction.atomic():  # the connection is usable again
        assert list(batches_lock([batch.pk], user_id=trader.pk)) == [batch.pk]
