from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.models import Account
from registry.services import ServiceError
from utilities.admin_readonly import ReadOnlyAdmin, admin_link, admin_links, number_column
from utilities.display import count_text, date_text

from .filters import MonthField
from .generator_services import (
    GeneratorDetails,
    GeneratorRefused,
    generator_approve,
    generator_details_check,
    generator_onboard,
    generator_send_back,
)
from .models import (
    Certificate,
    CertificateBatch,
    Generator,
    GeneratorAwaitingApproval,
    GeneratorOverdueForReview,
    GeneratorReview,
)
from .reviews import annual_review, generators_overdue, review_today
from .serials import format_serial
from .services import certificate_issue


class IssueForm(forms.Form):
    vintage = MonthField(label="Vintage month", help_text="MM/YYYY, e.g. 01/2025")
    quantity = forms.IntegerField(min_value=1, label="Quantity (MWh)")
    account = forms.ModelChoiceField(queryset=Account.objects.none(), label="Into account", empty_label=None)

    def __init__(self, *args, generator: Generator, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.of(generator.organization).open_active()


class GeneratorAdminForm(forms.ModelForm):
    """Staff's form holds a generator to the same rules as a participant's (generator_details_check)."""

    class Meta:
        model = Generator
        fields = ["organization", "code", "name", "fuel_type", "technology", "capacity_mw", "state", "commissioned_on",
                  "eligibilities", "account"]

    def clean(self):
        data = super().clean()
        organization = data.get("organization")
        if organization is None or self.errors:
            return data
        try:
            generator_details_check(GeneratorDetails(
                name=data.get("name", ""), fuel_type=data.get("fuel_type", ""), technology=data.get("technology", ""),
                capacity_mw=data.get("capacity_mw"), state=data.get("state", ""),
                commissioned_on=data.get("commissioned_on"), eligibilities=data.get("eligibilities") or [],
                account=data.get("account")), organization)
        except GeneratorRefused as refused:
            self.add_error(refused.field if refused.field in self.fields else None, str(refused))
        return data


REVIEW_FIELDS = ["status", "review_note", "created_by", "created_at", "submitted_at", "reviewed_by", "reviewed_at"]


@admin.register(Generator)
class GeneratorAdmin(admin.ModelAdmin):
    """Registry staff onboard a generator here (approved at once, with the ID they give it) and issue its
    certificates. Participants' registrations wait in "Generators awaiting approval"."""

    list_display = ["code", "name", "organization", "fuel_type", "technology", "state", "capacity_mw", "status",
                    "issue_link"]
    list_filter = ["status", "fuel_type", ("state", admin.AllValuesFieldListFilter)]  # the states it has
    search_fields = ["code", "name", "organization__name", "organization__public_id"]
    autocomplete_fields = ["organization", "account"]
    list_select_related = ["organization"]
    readonly_fields = REVIEW_FIELDS
    form = GeneratorAdminForm

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            generator_onboard(user=request.user, generator=obj)

    @admin.display(description="Issuance")
    def issue_link(self, generator):
        return format_html('<a href="{}">Issue certificates</a>',
                           reverse("admin:certificates_generator_issue", args=[generator.pk]))

    def get_urls(self):
        return [path("<int:pk>/issue/", self.admin_site.admin_view(self.issue_view),
                     name="certificates_generator_issue"), *super().get_urls()]

    def issue_view(self, request, pk):
        """Issue certificates for one generator and production period (a month), through the issuance service."""
        generator = get_object_or_404(Generator.objects.select_related("organization"), pk=pk)
        form = IssueForm(request.POST if request.method == "POST" else None, generator=generator)
        if request.method == "POST" and form.is_valid():
            try:
                certificate = certificate_issue(user=request.user, generator=generator,
                                                period=form.cleaned_data["vintage"],
                                                quantity=form.cleaned_data["quantity"],
                                                account=form.cleaned_data["account"])
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                issued = format_serial(certificate.serial_base, 1, certificate.quantity)
                self.message_user(request, f"Issued {count_text(certificate.quantity, 'certificate')}: {issued}.",
                                  messages.SUCCESS)
                return redirect("admin:certificates_certificate_change", certificate.pk)
        return TemplateResponse(request, "admin/certificates/issue.html", {
            **self.admin_site.each_context(request), "title": f"Issue certificates for {generator}",
            "generator": generator, "form": form, "opts": self.model._meta,
        })


class SendBackForm(forms.Form):
    note = forms.CharField(label="What should the organization change?", widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=2000, help_text="Emailed to the organization's managers and shown on the "
                                                      "generator's page.")


def _decide_each(modeladmin, request, queryset, decide, done: str) -> None:
    """One service call per selected generator; what was done, and each refusal, reported."""
    decided = 0
    for generator in queryset:
        try:
            decide(generator)
        except ServiceError as error:
            modeladmin.message_user(request, f"{generator.code}: {error}", messages.ERROR)
        else:
            decided += 1
    if decided:
        modeladmin.message_user(request, f"{count_text(decided, 'generator')} {done}.", messages.SUCCESS)


@admin.action(description="Approve the selected generators")
def approve(modeladmin, request, queryset):
    _decide_each(modeladmin, request, queryset,
                 lambda generator: generator_approve(user=request.user, generator=generator), "approved")


@admin.action(description="Send back the selected generators, with a note…")
def send_back(modeladmin, request, queryset):
    """Asks for the note on a page of its own, then sends each generator back with it."""
    form = SendBackForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        note = form.cleaned_data["note"]
        _decide_each(modeladmin, request, queryset,
                     lambda generator: generator_send_back(user=request.user, generator=generator, note=note),
                     "sent back")
        return None
    return TemplateResponse(request, "admin/certificates/send_back.html", {
        **modeladmin.admin_site.each_context(request), "title": "Send back generators", "generators": queryset,
        "form": form, "opts": modeladmin.model._meta, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    })


@admin.register(GeneratorAwaitingApproval)
class GeneratorAwaitingApprovalAdmin(ReadOnlyAdmin):
    """Registry staff's queue: generators participants submitted, oldest first. Approve them, or send them
    back with a note; the organization's managers are emailed either way."""

    list_display = ["code", "name", "organization", "fuel_type", "technology", "capacity_mw", "state",
                    "commissioned_on", "eligibility_list", "account", "submitted_at"]
    list_filter = ["fuel_type", ("state", admin.AllValuesFieldListFilter)]
    search_fields = ["code", "name", "organization__name", "organization__public_id"]
    list_select_related = ["organization", "account"]
    ordering = ["submitted_at", "pk"]
    actions = [approve, send_back]

    def get_queryset(self, request):
        return super().get_queryset(request).awaiting_approval()

    @admin.display(description="Eligibilities claimed")
    def eligibility_list(self, generator):
        return ", ".join(generator.eligibilities) or "—"


@admin.register(GeneratorOverdueForReview)
class GeneratorOverdueForReviewAdmin(ReadOnlyAdmin):
    """Registry staff's list of the annual review's overdue generators (certificates.reviews): approved,
    not confirmed by their owners by the deadline. Their organizations can look but cannot transfer,
    retire or upload until a manager confirms them (or changes them, for staff to approve again)."""

    list_display = ["code", "name", "organization", "organization_id_text", "approved_on", "review_year"]
    search_fields = ["code", "name", "organization__name", "organization__public_id"]
    list_select_related = ["organization"]
    ordering = ["organization__name", "code"]

    def get_queryset(self, request):
        return generators_overdue(review_today()).select_related("organization")

    @admin.display(description="Organization ID", ordering="organization__public_id")
    def organization_id_text(self, generator):
        return generator.organization.public_id

    @admin.display(description="Approved on", ordering="reviewed_at")
    def approved_on(self, generator):
        return date_text(generator.reviewed_at) or "before decisions were recorded"

    @admin.display(description="Review")
    def review_year(self, generator):
        review = annual_review(review_today())
        return f"{review.year}, due {date_text(review.due)}" if review else ""


@admin.register(GeneratorReview)
class GeneratorReviewAdmin(ReadOnlyAdmin):
    """The annual review's confirmations: who confirmed which generator's registration, for which year."""

    list_display = ["generator", "year", "confirmed_by", "confirmed_at"]
    list_filter = ["year"]
    search_fields = ["generator__code", "generator__name", "generator__organization__name"]
    list_select_related = ["generator", "confirmed_by"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["serial_base", "generator", "vintage", number_column("quantity", "Quantity"), "issued_at",
                    "issued_by"]
    list_filter = ["fuel_type", "state", ("issued_at", admin.DateFieldListFilter)]
    search_fields = ["serial_base", "generator__code", "generator__name", "generator__organization__name"]
    list_select_related = ["generator", "issued_by"]

    @admin.display(description="Vintage", ordering="period")
    def vintage(self, certificate):
        return str(certificate.period)


@admin.register(CertificateBatch)
class CertificateBatchAdmin(ReadOnlyAdmin):
    list_display = ["serial_number", number_column("quantity", "Quantity"), "account", "organization", "status",
                    "created_at"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter), "certificate__fuel_type"]
    search_fields = ["certificate__serial_base", "account__public_id", "account__name",
                     "account__organization__name", "account__organization__public_id"]
    list_select_related = ["certificate", "account__organization"]
    fields = ["serial_number", "quantity", "certificate_link", "account", "status", "created_at", "parent_link",
              "children_links"]
    readonly_fields = fields
    show_full_result_count = False  # a registry holds millions of batches

    @admin.display(description="Organization")
    def organization(self, batch):
        return batch.account.organization.name

    @admin.display(description="Certificate (issuance)")
    def certificate_link(self, batch):
        return admin_link(batch.certificate)

    @admin.display(description="Parent (the batch it was split from)")
    def parent_link(self, batch):
        return admin_link(batch.parent)

    @admin.display(description="Children (what it was split into)")
    def children_links(self, batch):
        return admin_links(batch.children.select_related("certificate").order_by("serial_start"))
