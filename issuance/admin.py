from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from certificates.periods import ProductionPeriod
from registry.services import ServiceError
from utilities.admin_readonly import ReadOnlyAdmin, admin_link, number_column
from utilities.display import count_text, number_text

from .adjustments import correction_refuse, corrections_approve
from .corrections import issuance_rollback, issuance_rollback_plan
from .forms import RollbackForm
from .models import Correction, GenerationReport, GenerationReporter, GenerationUpload, Issuance
from .selectors import issuance_preview
from .services import issuance_run

SKIPPED_SHOWN = 20  # reasons listed in the message after a run; the rest are counted


class MonthListFilter(admin.SimpleListFilter):
    """The months reported, latest first (a registry's month of reports is the unit staff issue)."""

    title = "month"
    parameter_name = "month"

    def lookups(self, request, model_admin):
        months = GenerationReport.objects.order_by("-month").values_list("month", flat=True).distinct()[:36]
        return [(f"{month:%Y-%m-%d}", str(ProductionPeriod.month_of(month))) for month in months]

    def queryset(self, request, queryset):
        return queryset.filter(month=self.value()) if self.value() else queryset


@admin.register(GenerationReport)
class GenerationReportAdmin(ReadOnlyAdmin):
    list_display = ["generator", "month_text", "mwh", "status", "issued", "upload", "submitted_by", "created_at"]
    list_filter = [MonthListFilter, "status"]
    search_fields = ["generator__code", "generator__name", "generator__organization__name"]
    list_select_related = ["generator", "submitted_by", "upload"]
    actions = ["issue_months"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_issued()

    @admin.display(description="Month", ordering="month")
    def month_text(self, report):
        return str(report.period)

    @admin.display(description="Certificates issued")
    def issued(self, report):
        issuance = report.issued[0] if report.issued else None
        return admin_link(issuance, number_text(issuance.quantity)) if issuance else "—"

    @admin.action(description="Issue the selected months")
    def issue_months(self, request, queryset):
        """A confirm page with the totals, then issuance_run over the selected reports."""
        if request.POST.get("confirm") != "yes":
            select_across = request.POST.get("select_across") == "1"
            return TemplateResponse(request, "admin/issuance/confirm_issue.html", {
                **self.admin_site.each_context(request), "title": "Issue the selected months",
                "preview": issuance_preview(queryset), "select_across": select_across,
                "report_ids": queryset.values_list("pk", flat=True)[:1] if select_across
                else queryset.values_list("pk", flat=True),
                "opts": self.model._meta, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            })
        try:
            run = issuance_run(user=request.user, reports=queryset)
        except ServiceError as error:
            self.message_user(request, f"Nothing more was issued: {error}", messages.ERROR)
            return None
        self.message_user(request, f"Issued {count_text(len(run.issued) + len(run.granular), 'generator-month')}: "
                                   f"{count_text(run.certificates, 'certificate')}.", messages.SUCCESS)
        if run.skipped:
            reasons = " ".join(reason for _, reason in run.skipped[:SKIPPED_SHOWN])
            more = len(run.skipped) - SKIPPED_SHOWN
            self.message_user(request, f"{count_text(len(run.skipped), 'month')} not issued: {reasons}"
                                       + (f" … and {number_text(more)} more." if more > 0 else ""), messages.WARNING)
        return None


@admin.register(GenerationReporter)
class GenerationReporterAdmin(admin.ModelAdmin):
    """The reporting entities staff authorise for a generator (besides its owner)."""

    list_display = ["generator", "organization", "created_at"]
    search_fields = ["generator__code", "generator__name", "organization__name", "organization__public_id"]
    autocomplete_fields = ["generator", "organization"]
    list_select_related = ["generator", "organization"]
    fields = ["generator", "organization"]


@admin.register(GenerationUpload)
class GenerationUploadAdmin(ReadOnlyAdmin):
    list_display = ["pk", "organization", "filename", "status", "row_count", "uploaded_by", "created_at"]
    list_filter = ["status"]
    search_fields = ["organization__name", "filename", "sha256"]
    list_select_related = ["organization", "uploaded_by"]


class RolledBackFilter(admin.SimpleListFilter):
    title = "rolled back"
    parameter_name = "rolled_back"

    def lookups(self, request, model_admin):
        return [("no", "In force"), ("yes", "Rolled back")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.in_force()
        if self.value() == "yes":
            return queryset.filter(rolled_back_at__isnull=False)
        return queryset


@admin.register(Issuance)
class IssuanceAdmin(ReadOnlyAdmin):
    list_display = ["generator", "month", "mwh", "carry_in", "debit_paid", number_column("quantity", "Certificates"),
                    "carry_out", "certificate", "issued_by", "issued_at", "rolled_back_at", "rollback_link"]
    list_filter = [RolledBackFilter, ("issued_at", admin.DateFieldListFilter)]
    search_fields = ["generator__code", "generator__name", "certificate__serial_base"]
    list_select_related = ["generator", "certificate", "issued_by"]
    readonly_fields = ["rolled_back_at", "rolled_back_by", "rollback_reason", "rollback_link"]
    actions = ["roll_back"]

    @admin.display(description="")
    def rollback_link(self, issuance):
        if issuance.is_rolled_back:
            return "Rolled back"
        return format_html('<a class="button" href="{}">Roll back…</a>',
                           reverse("admin:issuance_issuance_rollback", args=[issuance.pk]))

    @admin.action(description="Roll back the selected issuance…")
    def roll_back(self, request, queryset):
        """One issuance at a time: its confirmation page shows what would be voided."""
        if queryset.count() != 1:
            self.message_user(request, "Choose one issuance to roll back: each has its own confirmation page.",
                              messages.WARNING)
            return None
        return redirect("admin:issuance_issuance_rollback", queryset.get().pk)

    def get_urls(self):
        return [path("<int:pk>/rollback/", self.admin_site.admin_view(self.rollback_view),
                     name="issuance_issuance_rollback"), *super().get_urls()]

    def rollback_view(self, request, pk):
        """The confirmation page (what would be voided: serials, account, quantity, the carry before and
        after; or why it cannot be), then the rollback, through issuance_rollback, with the reason."""
        issuance = get_object_or_404(self.get_queryset(request), pk=pk)
        form = RollbackForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                issuance_rollback(user=request.user, issuance=issuance, reason=form.cleaned_data["reason"])
            except ServiceError as error:
                self.message_user(request, f"Nothing was rolled back: {error}", messages.ERROR)
                return redirect("admin:issuance_issuance_rollback", pk)
            self.message_user(request, f"Rolled back {issuance.generator.code} {issuance.period}: "
                                       f"{count_text(issuance.quantity, 'certificate')} voided; its generation "
                                       "report is submitted again.", messages.SUCCESS)
            return redirect("admin:issuance_issuance_change", pk)
        plan = issuance_rollback_plan(issuance)
        return TemplateResponse(request, "admin/issuance/confirm_rollback.html", {
            **self.admin_site.each_context(request), "title": f"Roll back {issuance.generator.code} {issuance.period}",
            "plan": plan, "issuance": plan.issuance, "form": form, "opts": self.model._meta,
        })


class CorrectionStatusFilter(admin.SimpleListFilter):
    """Staff's queue first: the requests awaiting a decision, unless another status is chosen."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*Correction.Status.choices, ("all", "All")]

    def choices(self, changelist):
        value = self.value() or Correction.Status.REQUESTED
        for lookup, title in self.lookup_choices:
            yield {"selected": value == lookup, "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup})}

    def queryset(self, request, queryset):
        value = self.value() or Correction.Status.REQUESTED
        return queryset if value == "all" else queryset.filter(status=value)


@admin.register(Correction)
class CorrectionAdmin(ReadOnlyAdmin):
    """Staff's queue of correction requests (prior period adjustments), each with its difference; the
    actions approve (a shortfall owed or voided, as staff choose) or refuse them, with a note."""

    list_display = ["generator", "month_text", "mwh_before", "mwh_after", "difference_text", "status", "organization",
                    "requested_by", "requested_at", "evidence_link", "outcome"]
    list_filter = [CorrectionStatusFilter]
    search_fields = ["generator__code", "generator__name", "generator__organization__name"]
    list_select_related = ["generator", "organization", "requested_by"]
    actions = ["approve", "refuse"]

    @admin.display(description="Month", ordering="month")
    def month_text(self, correction):
        return str(correction.period)

    @admin.display(description="Difference (MWh)", ordering="difference")
    def difference_text(self, correction):
        return f"{correction.difference:+}"

    @admin.display(description="Evidence")
    def evidence_link(self, correction):
        if not correction.evidence:
            return "upload" if correction.upload_id else "—"
        return format_html('<a href="{}">{}</a>', reverse("issuance:correction_evidence", args=[correction.pk]),
                           correction.evidence_name or "file")

    @admin.display(description="Effect")
    def outcome(self, correction):
        return correction.effect

    def _decide(self, request, queryset, *, approve: bool):
        if request.POST.get("confirm") != "yes":
            corrections = list(queryset.select_related("generator").order_by("generator__code", "month"))
            return TemplateResponse(request, "admin/issuance/decide_corrections.html", {
                **self.admin_site.each_context(request), "approve": approve,
                "title": "Approve the selected corrections" if approve else "Refuse the selected corrections",
                "corrections": corrections, "shortfalls": any(c.difference < 0 for c in corrections),
                "shortfall_choices": Correction.Shortfall.choices, "action": "approve" if approve else "refuse",
                "opts": self.model._meta, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            })
        note = request.POST.get("note", "")
        try:
            if approve:
                decided = corrections_approve(user=request.user, corrections=queryset, note=note,
                                              shortfall_by=request.POST.get("shortfall_by", Correction.Shortfall.DEBIT))
            else:
                refused = list(queryset.order_by("pk"))
                for correction in refused:
                    correction_refuse(user=request.user, correction=correction, note=note)
        except ServiceError as error:
            self.message_user(request, f"Nothing more was decided: {error}", messages.ERROR)
            return None
        if not approve:
            self.message_user(request, f"Refused {count_text(len(refused), 'correction')}.", messages.SUCCESS)
            return None
        self.message_user(request, f"Approved {count_text(len(decided.approved), 'correction')}: "
                                   f"{count_text(decided.issued, 'certificate')} issued, "
                                   f"a shortfall of {count_text(decided.shortfall, 'certificate')}.", messages.SUCCESS)
        if decided.skipped:
            reasons = " ".join(reason for _, reason in decided.skipped[:SKIPPED_SHOWN])
            more = len(decided.skipped) - SKIPPED_SHOWN
            self.message_user(request, f"{count_text(len(decided.skipped), 'correction')} not approved: {reasons}"
                                       + (f" … and {number_text(more)} more." if more > 0 else ""), messages.WARNING)
        return None

    @admin.action(description="Approve the selected corrections")
    def approve(self, request, queryset):
        return self._decide(request, queryset, approve=True)

    @admin.action(description="Refuse the selected corrections")
    def refuse(self, request, queryset):
        return self._decide(request, queryset, approve=False)
