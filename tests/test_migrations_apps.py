"""RetirementOption, Retirement and MassTransferUpload moved out of `transfers` into the apps
`retirements` and `mass_uploads`, in Django's state only (their tables stay). A database of the
schema before the move, with rows of every moved model, a transfer, batches and their ledger
events, comes through the migrations whole."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from certificates.models import CertificateBatch
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from mass_uploads.models import MassTransferUpload
from retirements.models import Retirement, RetirementOption
from transfers.models import Transfer
from transfers.services import TransferLine

from .conftest import retire, send

# The schema of today: every migration before the move (and none of the new apps').
STATE_BEFORE = [("transfers", "0008_mass_upload_kind"), ("instructions", "0001_initial")]
BEFORE_THE_MOVE = [*STATE_BEFORE, ("retirements", None), ("mass_uploads", None)]


def migrate_to_the_end() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)  # migrations run outside a test's transaction
def test_a_database_of_the_schema_before_the_move_keeps_every_row(org, trader, issue, retirement_account,
                                                                   counterparty):
    retirement_type = ContentType.objects.get_for_model(Retirement)
    # Batches, a pending transfer, a retirement and their ledger events, by today's services (before
    # going back: today's models have columns added since the move, which the old schema lacks).
    batch = issue(1000)
    pending = send(batch, trader, org, counterparty, quantity=100)
    voluntary = RetirementOption.objects.create(name="Voluntary claim", type="voluntary_claim", reason="voluntary")
    retired = retire(organization=org, user=trader, lines=[TransferLine(pending.remainders[batch.pk], 300)],
                     account=retirement_account, option=voluntary)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_MOVE)
    try:
        old = executor.loader.project_state(STATE_BEFORE).apps
        # The moved models' rows, written through the models as they were (in `transfers`).
        option = old.get_model("transfers", "RetirementOption").objects.create(
            name="Minnesota RES", type="state_rps", reason="compliance", state="MN",
            requires_compliance_period=True)
        upload = old.get_model("transfers", "MassTransferUpload").objects.create(
            organization_id=org.pk, uploaded_by_id=trader.pk, kind="retirement", filename="retirements.csv",
            sha256="0" * 64, size=10, file="mass-transfers/retirements.csv", status="completed")
        old_transfer = old.get_model("transfers", "Transfer")
        old_transfer.objects.filter(pk=retired.pk).update(mass_upload_id=upload.pk)
        old_retirement = old.get_model("transfers", "Retirement").objects.get(transfer_id=retired.pk)
        assert old_retirement.option_id == voluntary.pk
        assert ContentType.objects.get(pk=retirement_type.pk).app_label == "transfers"
        events, batches = LedgerEvent.objects.count(), sorted(CertificateBatch.objects.values_list("pk", "status"))
    finally:
        migrate_to_the_end()

    assert RetirementOption.objects.get(pk=option.pk).name == "Minnesota RES"
    retirement = Retirement.objects.select_related("transfer__mass_upload", "option").get(pk=retired.pk)
    assert retirement.reference == old_retirement.reference and retirement.option.name == "Voluntary claim"
    assert retirement.transfer.mass_upload == MassTransferUpload.objects.get(pk=upload.pk)
    assert list(MassTransferUpload.objects.get(pk=upload.pk).transfers.all()) == [retirement.transfer]
    assert Transfer.objects.get(pk=pending.pk).status == Transfer.Status.PENDING
    assert LedgerEvent.objects.count() == events
    assert sorted(CertificateBatch.objects.values_list("pk", "status")) == batches
    # The content types (and so the staff's permissions on them) followed the models.
    assert ContentType.objects.get(pk=retirement_type.pk).app_label == "retirements"
    assert ledger_breaches() == []
