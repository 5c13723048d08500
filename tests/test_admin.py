import pytest
from django.urls import reverse

from accounts.models import Account
from certificates.models import Certificate, CertificateBatch
from ledger.models import LedgerEvent
from registry.models import Organization
from registry.services import ServiceError
from transfers.models import Transfer
from transfers.services import Destination, TransferLine, TransferRefused, transfer_accept, transfer_create


def action(client, model_url, name, ids):
    return client.post(reverse(model_url), {"action": name, "_selected_action": ids}, follow=True)


def test_participants_are_kept_out_of_the_admin(signed_in, trader, manager):
    for user in (trader, manager):
        response = signed_in(user).get("/admin/")
        assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_dashboard_shows_counts_and_the_ledger_check(admin_client, batch, trader, org, counterparty):
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                    destination=Destination.to_organization(counterparty))
    content = admin_client.get("/admin/").content.decode()
    assert "every ledger rule holds" in content
    assert "pending" in content and "990" in content  # live batches by status, with their certificates


def test_organizations_get_a_generated_mm_id(admin_client):
    response = admin_client.post(reverse("admin:registry_organization_add"), {
        "name": "Red River Solar Cooperative", "contact_email": "registry@redriver.example", "billing_tier": "small",
        "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0})
    assert response.status_code == 302
    organization = Organization.objects.get(name="Red River Solar Cooperative")
    assert organization.public_id == f"MM{organization.pk:05d}"
    assert 'name="public_id"' not in admin_client.get(reverse("admin:registry_organization_add")).content.decode()


def test_accounts_get_a_generated_id(admin_client, org):
    admin_client.post(reverse("admin:accounts_account_add"), {"organization": org.pk, "name": "Compliance 2026",
                                                              "type": "active"})
    account = Account.objects.get(name="Compliance 2026")
    assert account.public_id == f"ACT-{account.pk:05d}" and account.status == "open"


def test_issuance_through_the_admin(admin_client, generator, account, counterparty_account):
    url = reverse("admin:certificates_generator_issue", args=[generator.pk])
    page = admin_client.get(url).content.decode()
    assert account.public_id in page and counterparty_account.public_id not in page
    response = admin_client.post(url, {"vintage": "03/2025", "quantity": 4200, "account": account.pk})
    certificate = Certificate.objects.get(generator=generator)
    assert response.status_code == 302 and certificate.quantity == 4200
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ISSUANCE, certificate=certificate)
    assert event.actor == admin_client.staff
    again = admin_client.post(url, {"vintage": "03/2025", "quantity": 10, "account": account.pk})
    assert "already has certificates for 03/2025" in again.content.decode()
    assert Certificate.objects.filter(generator=generator).count() == 1
    foreign = admin_client.post(url, {"vintage": "04/2025", "quantity": 10, "account": counterparty_account.pk})
    assert "Select a valid choice" in foreign.content.decode()


@pytest.mark.parametrize("decision,status,batch_status,kind", [
    ("confirm", "complete", "exported", LedgerEvent.Kind.EXPORT_CONFIRMED),
    ("reject", "rejected", "active", LedgerEvent.Kind.EXPORT_REJECTED),
])
def test_export_queue(admin_client, batch, trader, org, tracking_system, decision, status, batch_status, kind):
    export = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 300)],
                             destination=Destination.export(tracking_system, "Cascade Utility", "W-1"))
    queue = admin_client.get(reverse("admin:transfers_pendingexport_changelist")).content.decode()
    assert reverse("admin:transfers_pendingexport_decide", args=[export.pk]) in queue
    admin_client.post(reverse("admin:transfers_pendingexport_decide", args=[export.pk]),
                      {"decision": decision, "note": "WREGIS ref 88123"})
    export.refresh_from_db()
    assert export.status == status and export.items.get().batch.status == batch_status
    assert LedgerEvent.objects.get(kind=kind, transfer=export).note == "WREGIS ref 88123"
    queue = admin_client.get(reverse("admin:transfers_pendingexport_changelist")).content.decode()
    assert reverse("admin:transfers_pendingexport_decide", args=[export.pk]) not in queue


def test_freeze_and_unfreeze_an_account(admin_client, batch, trader, org, account, second_account):
    action(admin_client, "admin:accounts_account_changelist", "freeze", [account.pk])
    account.refresh_from_db()
    assert account.status == Account.Status.FROZEN
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ACCOUNT_STATUS, account=account)
    assert (event.before, event.after, event.actor) == ({"status": "open"}, {"status": "frozen"}, admin_client.staff)
    with pytest.raises(TransferRefused, match="frozen and cannot send"):
        transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                        destination=Destination.internal(second_account))
    action(admin_client, "admin:accounts_account_changelist", "unfreeze", [account.pk])
    account.refresh_from_db()
    assert account.status == Account.Status.OPEN


def test_a_pending_transfer_to_a_frozen_account_or_suspended_organization_cannot_be_accepted(
        admin_client, batch, trader, org, counterparty, counterparty_trader, counterparty_account):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                               destination=Destination.to_organization(counterparty))
    action(admin_client, "admin:accounts_account_changelist", "freeze", [counterparty_account.pk])
    with pytest.raises(TransferRefused, match="not an open active account"):
        transfer_accept(transfer=transfer, user=counterparty_trader, organization=counterparty,
                        account=counterparty_account)
    action(admin_client, "admin:accounts_account_changelist", "unfreeze", [counterparty_account.pk])
    action(admin_client, "admin:registry_organization_changelist", "suspend", [counterparty.pk])
    with pytest.raises(TransferRefused, match="is suspended and cannot receive"):
        transfer_accept(transfer=transfer, user=counterparty_trader, organization=counterparty,
                        account=counterparty_account)
    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.PENDING


def test_suspend_and_reinstate_an_organization(admin_client, batch, trader, org, counterparty):
    action(admin_client, "admin:registry_organization_changelist", "suspend", [counterparty.pk])
    counterparty.refresh_from_db()
    assert counterparty.status == Organization.Status.SUSPENDED
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.ORGANIZATION_STATUS, organization=counterparty).exists()
    with pytest.raises(TransferRefused, match="is suspended and cannot receive"):
        transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                        destination=Destination.to_organization(counterparty))
    action(admin_client, "admin:registry_organization_changelist", "suspend", [org.pk])
    with pytest.raises(TransferRefused, match="is suspended and cannot send"):
        transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                        destination=Destination.to_organization(counterparty))
    response = action(admin_client, "admin:registry_organization_changelist", "suspend", [org.pk])
    assert "is already suspended" in response.content.decode()
    action(admin_client, "admin:registry_organization_changelist", "reinstate", [org.pk, counterparty.pk])
    assert set(Organization.objects.values_list("status", flat=True)) == {"active"}


def test_status_services_are_for_staff_only(trader, account):
    from accounts.services import account_set_status
    with pytest.raises(ServiceError, match="registry staff"):
        account_set_status(user=trader, account=account, status=Account.Status.FROZEN)


@pytest.mark.parametrize("model", ["certificates_certificatebatch", "transfers_transfer", "ledger_ledgerevent",
                                   "certificates_certificate", "mass_uploads_masstransferupload"])
def test_ledger_records_are_read_only_even_for_a_superuser_posting_by_hand(
        admin_client, batch, trader, org, second_account, model):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                               destination=Destination.internal(second_account))
    obj = {"certificates_certificatebatch": lambda: transfer.items.get().batch,
           "transfers_transfer": lambda: transfer,
           "ledger_ledgerevent": lambda: LedgerEvent.objects.filter(transfer=transfer).first(),
           "certificates_certificate": lambda: batch.certificate,
           "mass_uploads_masstransferupload": lambda: None}[model]()
    before = (LedgerEvent.objects.count(), sorted(CertificateBatch.objects.values_list("pk", "status", "quantity")),
              Transfer.objects.count())
    assert admin_client.post(reverse(f"admin:{model}_add"), {"quantity": 1, "status": "active"}).status_code == 403
    if obj is not None:
        assert admin_client.get(reverse(f"admin:{model}_change", args=[obj.pk])).status_code == 200
        assert admin_client.post(reverse(f"admin:{model}_change", args=[obj.pk]),
                                 {"quantity": 1, "status": "retired", "note": "x"}).status_code == 403
        assert admin_client.post(reverse(f"admin:{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        response = admin_client.post(reverse(f"admin:{model}_changelist"),
                                     {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
        assert response.status_code == 200  # the list again: delete is no action here, nothing deleted
    after = (LedgerEvent.objects.count(), sorted(CertificateBatch.objects.values_list("pk", "status", "quantity")),
             Transfer.objects.count())
    assert after == before


def test_batch_page_links_parent_and_children_and_search_finds_it(admin_client, batch, trader, org, second_account):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 250)],
                               destination=Destination.internal(second_account))
    moved = transfer.items.get().batch
    parent_page = admin_client.get(reverse("admin:certificates_certificatebatch_change", args=[batch.pk]))
    content = parent_page.content.decode()
    assert reverse("admin:certificates_certificatebatch_change", args=[moved.pk]) in content
    child_page = admin_client.get(reverse("admin:certificates_certificatebatch_change", args=[moved.pk]))
    assert reverse("admin:certificates_certificatebatch_change", args=[batch.pk]) in child_page.content.decode()
    found = admin_client.get(reverse("admin:certificates_certificatebatch_changelist"),
                             {"q": batch.certificate.serial_base, "status__exact": "active"})
    assert moved.serial_number in found.content.decode()
    transfer_page = admin_client.get(reverse("admin:transfers_transfer_change", args=[transfer.pk])).content.decode()
    event = LedgerEvent.objects.get(transfer=transfer)
    assert reverse("admin:ledger_ledgerevent_change", args=[event.pk]) in transfer_page
    events = admin_client.get(reverse("admin:ledger_ledgerevent_changelist"), {"q": org.public_id})
    assert events.status_code == 200 and "Transfer initiated" in events.content.decode()
