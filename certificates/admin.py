from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import Account
from registry.services import ServiceError
from utilities.admin_readonly import ReadOnlyAdmin, admin_link, admin_links, number_column
from utilities.display import count_text, date_text

from .filters import MonthField
from .generator_services import (
    EligibilityDetails,
    GeneratorDetails,
    GeneratorRefused,
    eligibility_change,
    eligibility_end,
    eligibility_problems,
    eligibility_record,
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
    GeneratorEligibility,
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
                  "eligibilities", "account", "granular", "emissions_factor", "emissions_factor_source",
                  "grid_area"]

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
                account=data.get("account"), granular=data.get("granular", False),
                emissions_factor=data.get("emissions_factor"),
                emissions_factor_source=data.get("emissions_factor_source", "")), organization)
        except GeneratorRefused as refused:
            self.add_error(refused.field if refused.field in self.fields else None, str(refused))
        return data


REVIEW_FIELDS = ["status", "review_note", "created_by", "created_at", "submitted_at", "reviewed_by", "reviewed_at"]


def eligibility_today(eligibility: GeneratorEligibility) -> str:
    """How an eligibility stands today: in force, expired on its good-through date, or valid from its start."""
    gap = eligibility.gap(timezone.localdate())
    return str(gap) if gap else "in force"


class RecordedEligibilityInline(admin.TabularInline):
    """The generator's recorded eligibilities, read here; recorded, changed and ended on their own page
    (each through a service, a ledger event)."""

    model = GeneratorEligibility
    fields = ["eligibility_link", "certification_number", "start_date", "verified_on", "good_through", "today"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "eligibilities recorded (what its certificates carry)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Eligibility")
    def eligibility_link(self, eligibility):
        return admin_link(eligibility, eligibility.name)

    @admin.display(description="Today")
    def today(self, eligibility):
        return eligibility_today(eligibility)


@admin.register(Generator)
class GeneratorAdmin(admin.ModelAdmin):
    """Registry staff onboard a generator here (approved at once, with the ID they give it) and issue its
    certificates. Participants' registrations wait in "Generators awaiting approval"."""

    list_display = ["code", "name", "organization", "fuel_type", "technology", "state", "capacity_mw", "granular",
                    "status", "issue_link"]
    list_filter = ["status", "granular", "fuel_type", ("state", admin.AllValuesFieldListFilter)]  # the states it has
    search_fields = ["code", "name", "organization__name", "organization__public_id"]
    autocomplete_fields = ["organization", "account"]
    list_select_related = ["organization"]
    readonly_fields = [*REVIEW_FIELDS, "claims_not_recorded"]
    form = GeneratorAdminForm
    inlines = [RecordedEligibilityInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # a generator being onboarded has none recorded yet

    @admin.display(description="Claimed, not recorded")
    def claims_not_recorded(self, generator):
        """What the organization claims that staff have not recorded (its certificates do not carry it), with
        a link to record an eligibility for it."""
        if generator.pk is None:
            return "—"
        recorded = set(generator.recorded_eligibilities.values_list("name", flat=True))
        missing = [name for name in generator.eligibilities if name not in recorded]
        link = format_html('<a href="{}?generator={}">Record an eligibility</a>',
                           reverse("admin:certificates_generatoreligibility_add"), generator.pk)
        return format_html("{} · {}", ", ".join(missing) or "none", link)

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


class GeneratorEligibilityForm(forms.ModelForm):
    """Staff's form of a recorded eligibility, held to the services' rules (eligibility_problems)."""

    class Meta:
        model = GeneratorEligibility
        fields = ["generator", "name", "certification_number", "start_date", "verified_on", "good_through"]

    def details(self) -> EligibilityDetails:
        data = self.cleaned_data
        return EligibilityDetails(name=data.get("name") or "", start_date=data.get("start_date"),
                                  certification_number=data.get("certification_number") or "",
                                  verified_on=data.get("verified_on"), good_through=data.get("good_through"))

    def clean(self):
        data = super().clean()
        generator = data.get("generator") or getattr(self.instance, "generator", None)
        if generator is None or self.errors:
            return data
        problems = eligibility_problems(generator=generator, details=self.details().tidied(),
                                        eligibility=self.instance if self.instance.pk else None)
        for field, message in problems.items():
            self.add_error(field if field in self.fields else None, message)
        return data


class EndEligibilitiesForm(forms.Form):
    last_day = forms.DateField(label="Last day they hold (their good-through date)",
                               help_text="YYYY-MM-DD. Certificates issued for a period after it do not carry them.")
    note = forms.CharField(label="Why (kept in the ledger and shown on the generator's history)", required=False,
                           max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


@admin.action(description="End the selected eligibilities…")
def end_eligibilities(modeladmin, request, queryset):
    """Asks for the last day on a page of its own, then ends each (a ledger event each)."""
    form = EndEligibilitiesForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        ended = 0
        for eligibility in queryset.select_related("generator"):
            try:
                eligibility_end(user=request.user, eligibility=eligibility, last_day=form.cleaned_data["last_day"],
                                note=form.cleaned_data["note"])
            except ServiceError as error:
                modeladmin.message_user(request, str(error), messages.ERROR)
            else:
                ended += 1
        if ended:
            modeladmin.message_user(request, f"{count_text(ended, 'eligibility', 'eligibilities')} ended.",
                                    messages.SUCCESS)
        return None
    return TemplateResponse(request, "admin/certificates/end_eligibilities.html", {
        **modeladmin.admin_site.each_context(request), "title": "End eligibilities",
        "eligibilities": queryset.select_related("generator"), "form": form, "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    })


@admin.register(GeneratorEligibility)
class GeneratorEligibilityAdmin(admin.ModelAdmin):
    """Registry staff record a generator's eligibility (a program or certification, its certification number,
    start, verified and good-through dates), change it, or end it; each a ledger event. Certificates issued
    for a period carry the eligibilities that hold on every day of it. Staff are emailed those ending within
    ELIGIBILITY_REMINDER_DAYS days."""

    list_display = ["name", "generator", "organization", "certification_number", "start_date", "verified_on",
                    "good_through", "today", "reminded_on"]
    list_filter = ["name", ("good_through", admin.DateFieldListFilter)]
    search_fields = ["name", "certification_number", "generator__code", "generator__name",
                     "generator__organization__name"]
    list_select_related = ["generator__organization"]
    autocomplete_fields = ["generator"]
    readonly_fields = ["reminded_on", "recorded_by", "recorded_at"]
    form = GeneratorEligibilityForm
    actions = [end_eligibilities]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "generator"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # an eligibility ends (its good-through date); its record stays

    @admin.display(description="Organization", ordering="generator__organization__name")
    def organization(self, eligibility):
        return eligibility.generator.organization.name

    @admin.display(description="Today")
    def today(self, eligibility):
        return eligibility_today(eligibility)

    def save_model(self, request, obj, form, change):
        """Through the services, never a plain save: a ledger event each."""
        if change and not form.has_changed():
            return
        if change:
            saved = eligibility_change(user=request.user, eligibility=obj, details=form.details())
        else:
            saved = eligibility_record(user=request.user, generator=form.cleaned_data["generator"],
                                       details=form.details())
        obj.pk, obj.recorded_by, obj.recorded_at = saved.pk, saved.recorded_by, saved.recorded_at


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
