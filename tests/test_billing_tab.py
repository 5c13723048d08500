"""The Billing tab: a manager, and the billing contact (any member), read the organization's invoices
with their status, PDF and CSV, and the current period's charges; another member is refused, and
another organization's invoice is a 404."""


import pytest
from django.urls import reverse

from registry.models import Organization

from .billing import january_invoice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def invoice(issue, no_wakeups, org):
    return january_invoice(issue, org)


def test_a_manager_reads_the_invoices_their_status_and_the_current_charges(invoice, manager, client):
    client.force_login(manager)
    page = client.get(reverse("billing:billing")).content.decode()
    assert "INV-000001" in page and "January 2090" in page and "$80.00" in page
    assert "Overdue: $80.00 owed" in page or "Due: $80.00 owed" in page
    assert "1 charge, $150.00 in all" in page and "5,000 RECs × $0.03" in page
    pdf = client.get(reverse("billing:invoice_pdf", args=[invoice.number]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    csv_text = b"".join(client.get(reverse("billing:invoice_csv", args=[invoice.number])).streaming_content).decode()
    assert csv_text.startswith("Invoice,Happened,Kind,Description") and "INV-000001" in csv_text


def test_the_billing_contact_reads_it_whatever_their_role(invoice, org, viewer, client):
    client.force_login(viewer)
    assert client.get(reverse("billing:billing")).status_code == 403
    Organization.objects.filter(pk=org.pk).update(billing_contact=viewer)
    response = client.get(reverse("billing:billing"))
    assert response.status_code == 200 and "INV-000001" in response.content.decode()


def test_another_organizations_invoice_is_not_found(invoice, counterparty, client):
    from .factories import MembershipFactory, UserFactory

    outsider_manager = UserFactory()
    MembershipFactory(user=outsider_manager, organization=counterparty, role="manager")
    client.force_login(outsider_manager)
    assert client.get(reverse("billing:invoice_pdf", args=[invoice.number])).status_code == 404
    assert "INV-000001" not in client.get(reverse("billing:billing")).content.decode()


# The billing contact: one of the organization's members, set through organization_set_billing.

def test_a_billing_contact_must_be_a_member_and_a_refusal_changes_nothing(org, manager, viewer, outsider):
    from ledger.models import LedgerEvent
    from registry.activity import event_sentence
    from registry.services import ServiceError, organization_set_billing

    with pytest.raises(ServiceError, match=f"{outsider.email} is not a member of {org.name}: the billing contact "
                                           "must be one of its members. Invite them first, or choose a member."):
        organization_set_billing(user=manager, organization=org, billing_contact=outsider, billing_tier="small")
    org.refresh_from_db()
    assert org.billing_contact is None and not LedgerEvent.objects.filter(kind="organization_settings").exists()
    organization_set_billing(user=manager, organization=org, billing_contact=viewer, billing_tier=org.billing_tier)
    org.refresh_from_db()
    assert (org.billing_contact, org.billing_tier) == (viewer, "small")
    (event,) = LedgerEvent.objects.filter(kind="organization_settings")
    assert event_sentence(event, org) == (f"Billing set: invoices go to {viewer.email}; the small tier's "
                                          "subscription.")


def test_only_staff_change_the_subscription_tier(org, manager, staff):
    from registry.services import ServiceError, organization_set_billing

    with pytest.raises(ServiceError, match="Only registry staff change an organization's subscription tier."):
        organization_set_billing(user=manager, organization=org, billing_contact=None, billing_tier="large")
    org.refresh_from_db()
    assert org.billing_tier == "small"
    organization_set_billing(user=staff, organization=org, billing_contact=None, billing_tier="large")
    org.refresh_from_db()
    assert org.billing_tier == "large"


def test_a_manager_names_the_billing_contact_on_the_tab(org, manager, viewer, outsider, client):
    from ledger.models import LedgerEvent

    client.force_login(manager)
    page = client.get(reverse("billing:billing")).content.decode()
    assert "<title>Billing · " in page and page.count('id="billing-contact"') == 1
    assert "the managers: no billing contact is named" in page
    assert f"{viewer.email} (viewer)" in page and outsider.email not in page  # only members are offered
    response = client.post(reverse("billing:contact"), {"contact": outsider.pk}, follow=True)
    assert (f"{outsider.email} is not a member of {org.name}: the billing contact must be one of its members."
            in response.content.decode())
    org.refresh_from_db()
    assert org.billing_contact is None and not LedgerEvent.objects.filter(kind="organization_settings").exists()
    response = client.post(reverse("billing:contact"), {"contact": "x"}, follow=True)
    assert "Choose a member of the organization as billing contact." in response.content.decode()

    response = client.post(reverse("billing:contact"), {"contact": viewer.pk}, follow=True)
    page = response.content.decode()
    assert f"Invoices now go to {viewer.email}." in page and f"{viewer.email}, the billing contact" in page
    org.refresh_from_db()
    assert (org.billing_contact, org.billing_tier) == (viewer, "small")
    response = client.post(reverse("billing:contact"), {"contact": ""}, follow=True)
    assert f"Invoices now go to {org.name}&#x27;s managers." in response.content.decode()
    org.refresh_from_db()
    assert org.billing_contact is None


def test_the_billing_contact_who_is_not_a_manager_reads_but_does_not_change_it(org, viewer, client):
    Organization.objects.filter(pk=org.pk).update(billing_contact=viewer)
    client.force_login(viewer)
    page = client.get(reverse("billing:billing")).content.decode()
    assert f"{viewer.email}, the billing contact" in page and 'action="/organization/billing/contact/"' not in page
    assert client.post(reverse("billing:contact"), {"contact": ""}).status_code == 403
    org.refresh_from_db()
    assert org.billing_contact == viewer


def test_only_a_manager_or_staff_sets_the_billing_contact(org, viewer):
    from registry.services import ServiceError, organization_set_billing

    with pytest.raises(ServiceError):
        organization_set_billing(user=viewer, organization=org, billing_contact=viewer, billing_tier="small")


def test_staff_set_the_billing_contact_in_the_admin_among_the_members_only(admin_client, org, viewer, outsider):
    path = reverse("admin:registry_organization_billing", args=[org.pk])
    page = admin_client.get(path).content.decode()
    assert viewer.email in page and outsider.email not in page  # only members are offered
    response = admin_client.post(path, {"billing_contact": outsider.pk, "billing_tier": "small"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    org.refresh_from_db()
    assert org.billing_contact is None
    response = admin_client.post(path, {"billing_contact": viewer.pk, "billing_tier": "large"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.billing_contact, org.billing_tier) == (viewer, "large")
    change = admin_client.get(reverse("admin:registry_organization_change", args=[org.pk])).content.decode()
    assert 'name="billing_contact"' not in change and "Change the billing contact or tier" in change
