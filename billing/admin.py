"""Registry staff keep the fee schedules here. A schedule takes effect on its date and, once in
force, is never edited (nor deleted): a change is a new schedule from a later date, so the schedule in
force on any past day stays what it was. Search the list with a date (2027-03-15) for the schedule in
force that day. Charges and invoices are read here, never changed."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path

from utilities.admin_readonly import ReadOnlyAdmin, admin_link

from .models import Charge, CreditNote, Fee, FeeSchedule, Invoice, Payment, TierFee
from .selectors import AGE_BUCKETS, billing_today, fee_schedule_in_force, invoices_with_balance, receivables_by_age
from .services import BillingRefused, credit_note_issue, fee_schedule_delete, fee_schedule_save, payment_record
from .values import money_text


def _in_force(schedule: FeeSchedule | None) -> bool:
    return schedule is not None and schedule.pk is not None and schedule.effective_from <= billing_today()


class FeeInline(admin.TabularInline):
    model = Fee
    extra = 0

    def has_change_permission(self, request, obj=None):
        return not _in_force(obj)

    has_add_permission = has_delete_permission = has_change_permission


class TierFeeInline(FeeInline):
    model = TierFee


class FeeScheduleForm(forms.ModelForm):
    class Meta:
        model = FeeSchedule
        fields = ["effective_from", "note", "payment_days", "late_fee_percent", "inactivation_days", "reactivation_fee",
                  "reminder_days"]

    def clean_effective_from(self) -> datetime.date:
        day = self.cleaned_data["effective_from"]
        if day <= billing_today():
            raise forms.ValidationError(
                "A fee schedule takes effect from a later day than today: the charges of today and before were "
                "priced by the schedule then in force.")
        return day


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    form = FeeScheduleForm
    inlines = [FeeInline, TierFeeInline]
    list_display = ["effective_from", "state", "note", "payment_days", "late_fee_percent", "inactivation_days"]
    search_fields = ["note"]
    search_help_text = "A date (YYYY-MM-DD) shows the schedule in force that day."

    @admin.display(description="State")
    def state(self, schedule: FeeSchedule) -> str:
        today = billing_today()
        if schedule.effective_from > today:
            return "From a later day"
        return "In force" if fee_schedule_in_force(today) == schedule else "Past"

    def get_search_results(self, request, queryset, search_term):
        try:
            day = datetime.date.fromisoformat(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        in_force = fee_schedule_in_force(day)
        return queryset.filter(pk=in_force.pk if in_force else None), False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _in_force(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _in_force(obj)

    # Every write through billing.services (fee_schedule_save, with its ledger event): the schedule is
    # saved with its inlines, once the admin has checked them all.
    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        fees, tier_fees, removed = [], [], []
        for formset in formsets:
            saved = formset.save(commit=False)
            (tier_fees if formset.model is TierFee else fees).extend(saved)
            removed.extend(formset.deleted_objects)
        try:
            fee_schedule_save(user=request.user, schedule=form.instance, fees=fees, tier_fees=tier_fees,
                              removed=removed)
        except BillingRefused as error:  # checked by the form already; a race with the clock's day is left
            raise ValidationError(str(error)) from error

    def get_deleted_objects(self, objs, request):
        # Its fees protect a schedule from a stray delete; fee_schedule_delete removes them with it.
        deleted, counts, perms_needed, _ = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed, []

    def delete_model(self, request, obj):
        fee_schedule_delete(user=request.user, schedule=obj)

    def delete_queryset(self, request, queryset):
        for schedule in queryset:
            fee_schedule_delete(user=request.user, schedule=schedule)


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "organization", "kind", "description", "amount_text", "invoice_link"]
    list_filter = ["kind", "year"]
    list_select_related = ["organization", "invoice"]
    search_fields = ["organization__name", "organization__public_id"]

    @admin.display(description="Amount", ordering="amount")
    def amount_text(self, charge: Charge) -> str:
        return money_text(charge.amount, charge.currency)

    @admin.display(description="Invoice")
    def invoice_link(self, charge: Charge):
        return admin_link(charge.invoice)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    """Issued invoices, read only, with what is still owed; "Receivables by age" above the list."""

    list_display = ["reference", "organization", "period_start", "issued_at", "due_on", "total_text", "balance_text"]
    list_select_related = ["organization"]
    search_fields = ["organization__name", "organization__public_id", "number"]
    date_hierarchy = "period_start"

    def get_queryset(self, request):
        return invoices_with_balance()

    @admin.display(description="Total", ordering="total")
    def total_text(self, invoice: Invoice) -> str:
        return money_text(invoice.total, invoice.currency)

    @admin.display(description="Balance", ordering="balance")
    def balance_text(self, invoice: Invoice) -> str:
        return money_text(invoice.balance, invoice.currency)

    def get_urls(self):
        return [path("receivables/", self.admin_site.admin_view(self.receivables), name="billing_receivables"),
                *super().get_urls()]

    def receivables(self, request):
        today = billing_today()
        rows = receivables_by_age(today)
        totals = [sum((row["buckets"][index] for row in rows), start=0) for index in range(len(AGE_BUCKETS))]
        return TemplateResponse(request, "admin/billing/receivables.html", {
            **self.admin_site.each_context(request), "title": f"Receivables by age on {today:%Y-%m-%d}",
            "buckets": [label for label, _, _ in AGE_BUCKETS], "opts": self.model._meta,
            "rows": [{**row, "buckets": [money_text(amount) for amount in row["buckets"]],
                      "total": money_text(row["total"])} for row in rows],
            "totals": [money_text(amount) for amount in totals],
            "grand_total": money_text(sum((row["total"] for row in rows), start=0))})


class _ThroughServiceAdmin(admin.ModelAdmin):
    """Staff add a row here through its service (the form's fields are its arguments); nothing is
    changed or deleted afterwards."""

    raw_id_fields = ["invoice"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        form.instance = obj  # saved by the service in _service (called from the form's clean)

    def add_view(self, request, form_url="", extra_context=None):
        """The admin's add page, but not inside the admin's own transaction (changeform_view's): the
        service is the transaction (durable, with its lock and its ledger event), and cannot run nested
        in another. The form's clean calls it; its refusal is the form's error."""
        form = self.get_form(request)(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            self.log_addition(request, form.instance, [{"added": {}}])
            return self.response_add(request, form.instance)
        fieldsets = self.get_fieldsets(request)
        context = {**self.admin_site.each_context(request), "title": f"Add {self.opts.verbose_name}",
                   "subtitle": None, "adminform": helpers.AdminForm(form, fieldsets, {}, model_admin=self),
                   "object_id": None, "original": None, "is_popup": False, "to_field": None, "media": self.media
                   + form.media, "inline_admin_formsets": [], "errors": helpers.AdminErrorList(form, []),
                   "preserved_filters": self.get_preserved_filters(request), **(extra_context or {})}
        return self.render_change_form(request, context, add=True, form_url=form_url)


class _ThroughServiceForm(forms.ModelForm):
    """The form's fields are the service's arguments; the service's refusal is the form's error."""

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                self.instance = type(self).service(user=self.user, **data)
            except BillingRefused as refusal:
                raise ValidationError(str(refusal)) from refusal
        return data


class PaymentForm(_ThroughServiceForm):
    service = staticmethod(payment_record)

    class Meta:
        model = Payment
        fields = ["invoice", "amount", "received_on", "method", "reference"]


class CreditNoteForm(_ThroughServiceForm):
    service = staticmethod(credit_note_issue)

    class Meta:
        model = CreditNote
        fields = ["invoice", "amount", "reason"]


@admin.register(Payment)
class PaymentAdmin(_ThroughServiceAdmin):
    form = PaymentForm
    list_display = ["received_on", "invoice", "amount", "method", "reference", "recorded_by"]
    list_select_related = ["invoice", "recorded_by"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, f"Recorded {obj}.")
        return super().response_add(request, obj, post_url_continue)


@admin.register(CreditNote)
class CreditNoteAdmin(PaymentAdmin):
    form = CreditNoteForm
    list_display = ["issued_at", "invoice", "amount", "reason", "issued_by"]
    list_select_related = ["invoice", "issued_by"]
