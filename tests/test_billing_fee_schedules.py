"""Fee schedules are written through billing.services (fee_schedule_save, fee_schedule_delete), with a
ledger event of what each held before and after; the admin saves one with its fees that way; one in
force, or past, is never changed."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Fee, FeeSchedule
from billing.services import BillingRefused, fee_schedule_delete, fee_schedule_save
from ledger.models import LedgerEvent
from registry.services import ServiceError

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = datetime.date(2090, 1, 15)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr("billing.selectors.billing_today", lambda: TODAY)


def test_a_schedule_from_a_later_day_is_saved_with_its_fees_and_its_ledger_event(staff):
    schedule = fee_schedule_save(user=staff, schedule=FeeSchedule(effective_from=datetime.date(2090, 2, 1),
                                                                  note="2090 prices"),
                                 fees=[Fee(kind="issuance", unit_price=Decimal("0.02"), free_per_year=1000)],
                                 tier_fees=[])
    assert [(fee.kind, fee.unit_price) for fee in schedule.fees.all()] == [("issuance", Decimal("0.020000"))]
    (event,) = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.FEE_SCHEDULE_SAVED)
    assert event.actor == staff and event.before is None and event.note == "2090 prices"
    assert event.after["effective_from"] == "2090-02-01"
    assert event.after["fees"] == [{"kind": "issuance", "unit_price": "0.020000", "free_per_year": 1000}]
    schedule.payment_days = 45
    fee_schedule_save(user=staff, schedule=schedule, fees=[], tier_fees=[], removed=list(schedule.fees.all()))
    latest = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.FEE_SCHEDULE_SAVED).latest("pk")
    assert latest.before["payment_days"] == 30 and latest.after["payment_days"] == 45 and latest.after["fees"] == []
    assert not Fee.objects.exists()


def test_a_schedule_in_force_or_from_today_is_refused_and_nothing_changes(staff):
    with pytest.raises(BillingRefused, match="takes effect from a later day than today"):
        fee_schedule_save(user=staff, schedule=FeeSchedule(effective_from=TODAY), fees=[], tier_fees=[])
    in_force = FeeSchedule.objects.create(effective_from=datetime.date(2090, 1, 1))
    in_force.effective_from = datetime.date(2090, 3, 1)
    with pytest.raises(BillingRefused, match="in force \\(or past\\) is never changed"):
        fee_schedule_save(user=staff, schedule=in_force, fees=[], tier_fees=[])
    with pytest.raises(BillingRefused, match="never changed"):
        fee_schedule_delete(user=staff, schedule=in_force)
    assert FeeSchedule.objects.get().effective_from == datetime.date(2090, 1, 1)
    assert not LedgerEvent.objects.filter(kind=LedgerEvent.Kind.FEE_SCHEDULE_SAVED).exists()


def test_only_staff_write_schedules(manager):
    with pytest.raises(ServiceError, match="Only registry staff"):
        fee_schedule_save(user=manager, schedule=FeeSchedule(effective_from=datetime.date(2090, 2, 1)), fees=[],
                          tier_fees=[])


def inline(prefix: str, rows: list[dict]) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000}
    for index, row in enumerate(rows):
        data |= {f"{prefix}-{index}-{name}": value for name, value in row.items()}
    return data


def test_the_admin_saves_a_schedule_and_its_fees_through_the_service(admin_client):
    response = admin_client.post(reverse("admin:billing_feeschedule_add"), {
        "effective_from": "2090-03-01", "note": "Spring", "payment_days": 30, "late_fee_percent": "5",
        "inactivation_days": 90, "reactivation_fee": "25", "reminder_days": 10,
        **inline("fees", [{"kind": "retirement", "unit_price": "0.01", "free_per_year": 0}]),
        **inline("tier_fees", [{"tier": "large", "annual_amount": "2200"}])})
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = FeeSchedule.objects.get()
    assert schedule.reminder_days == 10 and schedule.tier_fees.get().annual_amount == Decimal("2200")
    (event,) = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.FEE_SCHEDULE_SAVED)
    assert event.after["fees"] == [{"kind": "retirement", "unit_price": "0.010000", "free_per_year": 0}]
    assert event.after["tier_fees"] == [{"tier": "large", "annual_amount": "2200.0000"}]
    admin_client.post(reverse("admin:billing_feeschedule_delete", args=[schedule.pk]), {"post": "yes"})
    assert not FeeSchedule.objects.exists()
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.FEE_SCHEDULE_SAVED).latest("pk").after is None
