"""The API's mass uploads: a CSV of transfers or retirements stored through the page's form and
service (size limit, duplicate held), its status, the transfers it made and its errors."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.models import ApiKey
from ledger.verification import ledger_breaches
from mass_uploads import validation as mass
from mass_uploads.models import MassTransferUpload
from utilities import csv_upload

from .conftest import ledger_state
from .factories import RetirementOptionFactory
from .test_api_transfers import fields

UPLOADS = "/api/v1/mass-uploads/"
HEADER = "Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"


@pytest.fixture(autouse=True)
def media(mass_media):
    pass


@pytest.fixture
def owner(api_as, org, manager):
    return api_as(manager, org, ApiKey.Scope.RETIRE)


def upload(client, content: str | bytes, *, kind="transfer", name="transfers.csv", key=None, run=None):
    """POST the file as multipart; `run` (django_capture_on_commit_callbacks) runs the queued task."""
    raw = content.encode() if isinstance(content, str) else content
    data = {"file": SimpleUploadedFile(name, raw, content_type="text/csv"), "kind": kind}
    headers = {"HTTP_IDEMPOTENCY_KEY": key or str(uuid.uuid4())}
    if run is None:
        return client.post(UPLOADS, data, format="multipart", **headers)
    with run(execute=True):
        return client.post(UPLOADS, data, format="multipart", **headers)


def test_a_file_of_transfers_is_applied(owner, batch, second_account, counterparty,
                                        django_capture_on_commit_callbacks):
    response = upload(owner, HEADER + f"{batch.serial_number},100,,{second_account.public_id},Rebalance\r\n"
                                      f"{batch.serial_number},50,{counterparty.public_id},,Sale\r\n",
                      run=django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    upload_id = response.json()["id"]
    assert response["Location"] == f"{UPLOADS}{upload_id}/"
    status = owner.get(f"{UPLOADS}{upload_id}/").json()
    assert (status["status"], status["row_count"], status["error_count"], status["kind"]) == (
        "completed", 2, 0, "transfer")
    assert len(status["transfers"]) == 2
    assert ledger_breaches() == []


def test_a_wrong_row_is_reported_by_row_and_column(owner, batch, foreign_batch, second_account,
                                                   django_capture_on_commit_callbacks):
    before = ledger_state()
    response = upload(owner, HEADER + f"{batch.serial_number},100,,{second_account.public_id},\r\n"
                                      f"{foreign_batch.serial_number},5,,{second_account.public_id},\r\n",
                      run=django_capture_on_commit_callbacks)
    upload_id = response.json()["id"]
    assert owner.get(f"{UPLOADS}{upload_id}/").json()["status"] == "failed"
    errors = owner.get(f"{UPLOADS}{upload_id}/errors/").json()
    assert errors["status"] == "failed"
    # The file's row (the header is row 1) and column.
    assert [(error["row"], error["column"][:1]) for error in errors["errors"]] == [(3, "A")]
    assert errors["errors"][0]["value"] == foreign_batch.serial_number
    assert ledger_state()[0] == before[0] and ledger_state()[1] == before[1]


def test_a_file_over_the_limit_is_refused_by_field(owner, settings):
    too_big = HEADER + "x" * (csv_upload.MAX_BYTES + 1)
    before = MassTransferUpload.objects.count()
    response = upload(owner, too_big)
    assert response.status_code == 400
    assert "the limit is 10 MB" in fields(response)["file"]
    assert MassTransferUpload.objects.count() == before


def test_an_empty_file_is_refused(owner):
    response = upload(owner, "")
    assert response.status_code == 400
    assert fields(response) == {"file": "The submitted file is empty."}
    assert MassTransferUpload.objects.count() == 0


def test_the_same_file_within_a_day_is_held(owner, batch, second_account, django_capture_on_commit_callbacks):
    content = HEADER + f"{batch.serial_number},10,,{second_account.public_id},\r\n"
    upload(owner, content, run=django_capture_on_commit_callbacks)
    again = upload(owner, content, run=django_capture_on_commit_callbacks)
    assert again.status_code == 201
    assert again.json()["status"] == "held"
    assert batch.__class__.objects.filter(parent=batch, account=second_account).count() == 1


def test_a_held_file_is_processed_or_discarded(owner, batch, second_account, django_capture_on_commit_callbacks):
    content = HEADER + f"{batch.serial_number},10,,{second_account.public_id},\r\n"
    assert upload(owner, content).json()["status"] == "queued"  # its task is not run in this test
    held = [upload(owner, content).json()["id"] for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        processed = owner.post(f"{UPLOADS}{held[0]}/release/", {"process": True}, format="json",
                               HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert processed.status_code == 200, processed.content
    assert owner.get(f"{UPLOADS}{held[0]}/").json()["status"] == "completed"
    discarded = owner.post(f"{UPLOADS}{held[1]}/release/", {"process": False}, format="json",
                           HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert discarded.json()["status"] == "discarded"
    assert batch.__class__.objects.filter(parent=batch, account=second_account).count() == 1
    again = owner.post(f"{UPLOADS}{held[1]}/release/", {"process": True}, format="json",
                       HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert again.status_code == 409
    assert "no longer waiting" in again.json()["detail"]


def test_a_replayed_upload_stores_one_file(owner, batch, second_account):
    content = HEADER + f"{batch.serial_number},10,,{second_account.public_id},\r\n"
    first = upload(owner, content, key="file-1")
    again = upload(owner, content, key="file-1")
    assert again.json() == first.json()
    assert MassTransferUpload.objects.count() == 1


def test_scopes(api_as, org, manager, batch, retirement_account):
    RetirementOptionFactory()
    reader = api_as(manager, org, ApiKey.Scope.READ)
    trade = api_as(manager, org, ApiKey.Scope.TRADE)
    content = HEADER + f"{batch.serial_number},10,,ACT-1,\r\n"
    assert upload(reader, content).status_code == 403
    refused = upload(trade, "Serial Number,Quantity\r\n", kind="retirement")
    assert refused.status_code == 403
    assert "retire" in refused.json()["detail"]
    assert MassTransferUpload.objects.count() == 0
    accepted = upload(trade, content)
    assert accepted.status_code == 201
    assert reader.get(f"{UPLOADS}{accepted.json()['id']}/").status_code == 200


def test_another_organizations_upload_is_not_found(api_as, owner, outsider, batch, second_account):
    made = upload(owner, HEADER + f"{batch.serial_number},10,,{second_account.public_id},\r\n").json()
    stranger = api_as(outsider, outsider.memberships.get().organization, ApiKey.Scope.RETIRE)
    assert stranger.get(f"{UPLOADS}{made['id']}/").status_code == 404
    assert stranger.get(f"{UPLOADS}{made['id']}/errors/").status_code == 404


def test_a_file_of_retirements(owner, batch, retirement_account, django_capture_on_commit_callbacks):
    RetirementOptionFactory()
    header = ",".join(mass.RETIREMENT_COLUMNS) + "\r\n"
    row = f"{batch.serial_number},30,{retirement_account.public_id},Minnesota RES,2024,,,,\r\n"
    response = upload(owner, header + row, kind="retirement", run=django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    status = owner.get(f"{UPLOADS}{response.json()['id']}/").json()
    assert (status["kind"], status["status"]) == ("retirement", "completed"), status
    assert ledger_breaches() == []


@pytest.mark.parametrize("kind", ["", "Transfer", "transfers"])
def test_a_kind_that_is_not_one_of_the_two_is_refused(owner, batch, second_account, kind):
    """The schema lists `transfer` and `retirement`; anything else sent, even empty, is not a file of transfers."""
    response = upload(owner, HEADER + f"{batch.serial_number},100,,{second_account.public_id},\r\n", kind=kind)
    assert response.status_code == 400, response.content
    assert fields(response)["kind"] == "Choose whether the file lists transfers or retirements."
    assert not MassTransferUpload.objects.exists()


def test_a_file_without_a_kind_lists_transfers(owner, batch, second_account):
    data = {"file": SimpleUploadedFile("transfers.csv", (HEADER + f"{batch.serial_number},1,,"
                                                         f"{second_account.public_id},\r\n").encode())}
    response = owner.post(UPLOADS, data, format="multipart", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "transfer"


def test_a_kind_sent_twice_or_as_a_file_is_refused(owner, batch, second_account):
    content = (HEADER + f"{batch.serial_number},1,,{second_account.public_id},\r\n").encode()
    for kind in (["retirement", "transfer"], SimpleUploadedFile("kind", b"transfer")):
        data = {"file": SimpleUploadedFile("transfers.csv", content), "kind": kind}
        response = owner.post(UPLOADS, data, format="multipart", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        assert response.status_code == 400, response.content
        assert fields(response)["kind"] == "Choose whether the file lists transfers or retirements."
    assert not MassTransferUpload.objects.exists()
