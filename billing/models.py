"""Fee schedules (kept by staff), the charges the billing consumer makes from the domain events,
and the invoices that gather them. An issued invoice and its charges never change (the database
refuses it: migrations 0002); corrections are credit notes."""

import datetime
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone

from certificates.units import MWH_DIGITS, MWH_PLACES, mwh_text
from events.models import Event
from registry.models import Organization

from .values import ChargeKind, FeeKind, Period, money_text


class FeeScheduleQuerySet(models.QuerySet):
    def in_force_on(self, day: datetime.date) -> "FeeSchedule | None":
        """The schedule in force on `day`: the latest to take effect on or before it."""
        return self.filter(effective_from__lte=day).order_by("-effective_from").first()


class FeeSchedule(models.Model):
    """The registry's fees from `effective_from` until the next schedule takes effect. A schedule in
    force (or past) is never edited, so that the one in force on any past day can still be shown:
    a change is a new schedule from its date."""

    effective_from = models.DateField(unique=True, help_text="The first day (in the registry's time zone) it applies.")
    note = models.CharField(max_length=200, blank=True)
    payment_days = models.PositiveIntegerField(default=30, help_text="An invoice is due this many days after issue.")
    late_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"),
                                           help_text="Added once to an invoice unpaid after its due date.")
    inactivation_days = models.PositiveIntegerField(
        default=90, help_text="An organization with an invoice unpaid this many days past due is inactivated.")
    reactivation_fee = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"),
                                           help_text="Charged (on the next invoice) when an inactivated organization "
                                                     "pays what it owes and is active again.")
    reminder_days = models.PositiveIntegerField(
        default=7, help_text="An unpaid invoice's reminder is emailed this many days before its due date (0: none).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = FeeScheduleQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"Fee schedule from {self.effective_from:%Y-%m-%d}"

    def fee(self, kind: str) -> "Fee | None":
        return next((fee for fee in self.fees.all() if fee.kind == kind), None)


class Fee(models.Model):
    """A per-certificate fee on one kind of event, with the certificates free each organization and year."""

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="fees")
    kind = models.CharField(max_length=16, choices=FeeKind)
    unit_price = models.DecimalField(max_digits=12, decimal_places=6,
                                     help_text="Per MWh: a monthly REC, or a million hourly certificates (Wh).")
    free_per_year = models.PositiveBigIntegerField(
        default=0, help_text="MWh free to each organization each calendar year, before the fee applies (a monthly "
                             "REC is one; hourly certificates count a MWh per million).")

    class Meta:
        ordering = ["schedule", "kind"]
        constraints = [models.UniqueConstraint(fields=["schedule", "kind"], name="fee_once_per_schedule"),
                       models.CheckConstraint(condition=Q(unit_price__gte=0), name="fee_not_negative")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.unit_price} a certificate"


class TierFee(models.Model):
    """The annual subscription of an organization of one tier, charged on its first invoice of a year."""

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="tier_fees")
    tier = models.CharField(max_length=16, choices=Organization.Tier)
    annual_amount = models.DecimalField(max_digits=12, decimal_places=4)

    class Meta:
        ordering = ["schedule", "tier"]
        constraints = [models.UniqueConstraint(fields=["schedule", "tier"], name="tier_fee_once_per_schedule"),
                       models.CheckConstraint(condition=Q(annual_amount__gte=0), name="tier_fee_not_negative")]

    def __str__(self) -> str:
        return f"{self.get_tier_display()}: {money_text(self.annual_amount)} a year"


class FreeUsage(models.Model):
    """How many MWh of certificates of one fee kind an organization has been charged for (free or not) in a
    calendar year: the free threshold is measured against it. Upserted in the charges' transaction."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=FeeKind)
    year = models.PositiveSmallIntegerField()
    used = models.DecimalField("MWh", max_digits=MWH_DIGITS, decimal_places=MWH_PLACES, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind", "year"], name="free_usage_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {mwh_text(self.used)} MWh"


class Invoice(models.Model):
    """One organization's charges of one billing period, numbered without gaps (InvoiceCounter).
    Never changed once written (the database refuses UPDATE and DELETE)."""

    number = models.PositiveBigIntegerField(unique=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="invoices")
    period_start = models.DateField()
    period_end = models.DateField(help_text="The first day after the period.")
    issued_at = models.DateTimeField()
    due_on = models.DateField()
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=16, decimal_places=4)
    bill_to = models.TextField(help_text="The organization and its billing contact as they were at issue.")
    schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="+",
                                 help_text="The schedule in force at issue (its due date and late fee).")

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["organization", "period_start"], name="invoice_once_per_period")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"INV-{self.number:06d}"

    @property
    def period(self) -> Period:
        return Period(self.period_start, self.period_end)


class InvoiceCounter(models.Model):
    """The last invoice number given: one row, locked FOR UPDATE by whoever issues, so that numbers
    have no gap (a sequence skips the numbers of a rolled-back transaction)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="invoice_counter_single_row")]

    def __str__(self) -> str:
        return f"Last invoice number {self.last_number}"


class Charge(models.Model):
    """What an organization owes for one billable event (or a year's subscription), priced by the
    schedule in force when it happened, with the words of how. At most one per (event, kind): the
    billing consumer's exactly-once, held by the database. Never changed once on an invoice."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="charges", db_index=False)
    kind = models.CharField(max_length=16, choices=ChargeKind)
    # Not indexed alone: the unique (event, kind) leads with the event, and schedules are never deleted.
    # Fewer indexes, for the invoices' UPDATE of every charge of a period (bench/billing.py).
    event = models.ForeignKey(Event, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              db_index=False)
    schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="+", db_index=False)
    occurred_at = models.DateTimeField()
    year = models.PositiveSmallIntegerField(help_text="The calendar year (registry's zone) it counts toward.")
    # MWh charged, and of them within the year's free threshold (certificates.units: an hourly
    # certificate's Wh are a millionth of a MWh each, charged as such, never as a REC each).
    quantity = models.DecimalField("MWh", max_digits=MWH_DIGITS, decimal_places=MWH_PLACES, default=0)
    free_quantity = models.DecimalField("free MWh", max_digits=MWH_DIGITS, decimal_places=MWH_PLACES, default=0)
    unit_price = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=4)
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=300)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="charges")
    # A late fee's invoice (the one paid late; the fee goes on the next): at most one each.
    for_invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    db_index=False)
    # A credit's charge (the one that charged the certificates it gives back): at most one credit per
    # voiding event and charge, the consumer's exactly-once for credits.
    # Indexed for credits only (charge_credits): an index of every charge would take an entry more for each
    # charge the invoices' UPDATE puts on an invoice (bench/billing.py).
    credited = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="credits",
                                 db_index=False)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["for_invoice"], condition=Q(kind=ChargeKind.LATE_FEE),
                                    name="late_fee_once_per_invoice"),
            models.UniqueConstraint(fields=["event", "kind"], condition=Q(event__isnull=False) & ~Q(kind="credit"),
                                    name="charge_once_per_event"),
            models.UniqueConstraint(fields=["event", "credited"], condition=Q(kind="credit"),
                                    name="credit_once_per_event_and_charge"),
            models.UniqueConstraint(fields=["organization", "year"], condition=Q(kind=ChargeKind.SUBSCRIPTION),
                                    name="subscription_once_per_year"),
            models.CheckConstraint(condition=Q(free_quantity__gte=0, free_quantity__lte=models.F("quantity")),
                                   name="charge_free_within_quantity"),
        ]
        indexes = [models.Index(fields=["organization", "occurred_at"], condition=Q(invoice__isnull=True),
                                name="charge_uninvoiced"),
                   models.Index(fields=["credited"], condition=Q(kind="credit"), name="charge_credits")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description}"


class Payment(models.Model):
    """Money received against one invoice, recorded by staff (billing.services.payment_record)."""

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CARD = "card", "Card"
        CHECK = "check", "Check"
        OTHER = "other", "Other"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=16, decimal_places=4)
    received_on = models.DateField()
    method = models.CharField(max_length=16, choices=Method)
    reference = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey("registry.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive")]

    def __str__(self) -> str:
        return f"{money_text(self.amount)} on {self.invoice} ({self.received_on:%Y-%m-%d})"


class CreditNote(models.Model):
    """A correction of an issued invoice (which itself never changes): the amount credited and why."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    amount = models.DecimalField(max_digits=16, decimal_places=4)
    reason = models.CharField(max_length=300)
    issued_by = models.ForeignKey("registry.User", on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_positive")]

    def __str__(self) -> str:
        return f"CN-{self.pk:06d}" if self.pk else "Credit note"


class InvoiceNotice(models.Model):
    """That an invoice's reminder (due soon) or overdue notice was given: at most once each (the
    database's unique (invoice, kind)), written with the notice's domain event (billing.services)."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "Due soon"
        OVERDUE = "overdue", "Overdue"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=16, choices=Kind)
    given_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["invoice", "kind"], name="invoice_notice_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} notice of {self.invoice}"
