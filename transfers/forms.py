import re
from collections.abc import Callable

from django import forms
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.text import get_text_list

from accounts.models import Account
from accounts.selectors import organization_can_receive
from certificates.models import CertificateBatch
from registry.models import Organization, TrackingSystem

from .models import NOTES_MAX_LENGTH, Transfer
from .selectors import accounts_to_receive, batches_already_in
from .services import Destination, TransferLine
from .values import RECIPIENT_ACCOUNT_REF_MAX_LENGTH, RECIPIENT_NAME_MAX_LENGTH
from .values import RECIPIENT_NAME_REQUIRED as RECIPIENT_NAME_REQUIRED  # the API's serializer reads it here

PUBLIC_ID = re.compile(r"\b(MM\d{5,})\b", re.IGNORECASE)
PARTIAL_PUBLIC_ID = re.compile(r"(MM)?\d+", re.IGNORECASE)  # the start of an MM id (MM0000), or digits of one (0004)


def cannot_accept_reason(organization: Organization) -> str:
    """Why `organization` cannot accept a transfer (it has no account that can receive), or ""."""
    if organization_can_receive(organization):
        return ""
    return (f"To accept a transfer, {organization.name} ({organization.public_id}) needs an open active "
            "account, and it has none yet.")


class AcceptForm(forms.Form):
    """The account to accept a transfer into. An organization with no account that can receive
    gets no choice to make: `cannot_receive` says why it cannot accept, and the form is refused
    with that reason."""

    account = forms.ModelChoiceField(queryset=Account.objects.none(), label="Into account", empty_label=None)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.cannot_receive = cannot_accept_reason(organization)
        if self.cannot_receive:
            del self.fields["account"]
        else:
            self.fields["account"].queryset = Account.objects.of(organization).open_active()

    def clean(self):
        if self.cannot_receive:
            raise forms.ValidationError(self.cannot_receive)
        return super().clean()


class DecisionForm(forms.Form):
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                           label="Note (optional)")


class QuantityForm(forms.Form):
    """Step 1: a whole number from 1 to the batch's quantity, per selected batch (the transfer line's
    own rule: TransferLine.quantity_problem)."""

    def __init__(self, *args, batches, quantities: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.batches = batches
        for batch in batches:
            self.fields[f"quantity_{batch.pk}"] = forms.IntegerField(
                label=batch.serial_number, initial=quantities.get(batch.pk, batch.quantity),
                error_messages={"invalid": "Enter a whole number.", "required": "Enter a quantity."},
                widget=forms.NumberInput(attrs={"min": 1, "max": batch.quantity, "step": 1}),
            )

    def clean(self):
        cleaned = super().clean()
        for batch in self.batches:
            name = f"quantity_{batch.pk}"
            if name in cleaned and (problem := TransferLine(batch.pk, cleaned[name]).quantity_problem(batch)):
                self.add_error(name, problem)
        return cleaned

    def rows(self):
        return [(batch, self[f"quantity_{batch.pk}"]) for batch in self.batches]

    def lines(self) -> list[list[int]]:
        return [[batch.pk, self.cleaned_data[f"quantity_{batch.pk}"]] for batch in self.batches]


def organizations_to_receive(organization: Organization):
    """Organizations a transfer can go to: active ones, never one's own."""
    return Organization.objects.filter(status=Organization.Status.ACTIVE).exclude(pk=organization.pk)


def organizations_matching(organization: Organization, text: str):
    text = (text or "").strip()
    if not text:
        return Organization.objects.none()
    match = PUBLIC_ID.search(text)
    candidates = organizations_to_receive(organization)
    if match:
        return candidates.filter(public_id__iexact=match[1])
    found = Q(name__icontains=text)
    if partial := PARTIAL_PUBLIC_ID.fullmatch(text):
        found |= Q(public_id__istartswith=text) if partial[1] else Q(public_id__contains=text)
    return candidates.filter(found).order_by("name")


ORGANIZATION_SEARCH_MIN_LENGTH = 2  # characters, blanks aside: fewer find nothing
ORGANIZATION_SEARCH_LIMIT = 10


def organizations_offered(organization: Organization, text: str) -> list[Organization]:
    """What the destination step offers for `text` as it is typed (its type-ahead, and the API's
    list of organizations): the first ORGANIZATION_SEARCH_LIMIT organizations_matching it, once it
    has ORGANIZATION_SEARCH_MIN_LENGTH characters. No stored name holds a NUL (PostgreSQL refuses
    one in text), so such text matches nothing."""
    if len(text.strip()) < ORGANIZATION_SEARCH_MIN_LENGTH or "\x00" in text:
        return []
    return list(organizations_matching(organization, text)[:ORGANIZATION_SEARCH_LIMIT])


def recipient_from_text(organization: Organization, text: str) -> Organization:
    """The organization that `text` names (its registered name or MM id), among those
    `organization` may choose; otherwise a ValidationError saying why not (none, several). Whether
    it can receive is Destination.problems'."""
    matches = list(organizations_matching(organization, text)[:6])
    exact = [org for org in matches if org.name.lower() == text.strip().lower()]
    if not text.strip():
        raise forms.ValidationError("Enter the organization's registered name or its MM id.")
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0]
    if not matches:
        raise forms.ValidationError(f"No other active organization is registered as “{text}”.")
    names = ", ".join(f"{org.name} ({org.public_id})" for org in matches[:5])
    raise forms.ValidationError(f"Several organizations match: {names}. Choose one.")


def not_offered_text(sources: list[Account]) -> str:
    """Why step 2 leaves out accounts the organization would otherwise transfer to: the
    certificates come from them (selectors.accounts_to_receive); "" when it leaves none out."""
    if not sources:
        return ""
    verb, pronoun = ("is", "it") if len(sources) == 1 else ("are", "them")
    return (f"{get_text_list([str(account) for account in sources], 'and')} {verb} not offered: "
            f"the certificates come from {pronoun}.")


# The form's field of each of Destination.problems' fields.
FORM_FIELDS = {"destination": "kind", "destination.account": "account", "destination.organization": "organization",
               "destination.tracking_system": "tracking_system", "destination.recipient_name": "recipient_name",
               "destination.recipient_account_ref": "recipient_account_ref"}


class DestinationForm(forms.Form):
    """Step 2, worded as the help page: where the certificates go."""

    kind = forms.ChoiceField(
        label="Transfer type", widget=forms.RadioSelect,
        choices=[(kind.value, kind.label) for kind in (Transfer.Kind.INTERNAL, Transfer.Kind.ORGANIZATION,
                                                       Transfer.Kind.EXPORT)],
        error_messages={"required": "Choose the type of transfer."},
    )
    # The choices are the lists the view read; clean_* turns the chosen id back into its object.
    # The account is checked in clean_account, not against the choices, so that one of the
    # organization's accounts that cannot receive is refused with the reason.
    account = forms.IntegerField(required=False, label="Active account", widget=forms.Select,
                                 error_messages={"invalid": "Select a valid choice."})
    organization = forms.CharField(required=False, label="Organization (registered name or MM id)",
                                   widget=forms.TextInput(attrs={"list": "organization-options",
                                                                 "autocomplete": "off"}))
    tracking_system = forms.TypedChoiceField(required=False, label="Tracking system", coerce=int, empty_value=None)
    recipient_name = forms.CharField(required=False, max_length=RECIPIENT_NAME_MAX_LENGTH, label="Recipient's name")
    recipient_account_ref = forms.CharField(required=False, max_length=RECIPIENT_ACCOUNT_REF_MAX_LENGTH,
                                            label="Recipient's account ID at that system")
    notes = forms.CharField(required=False, max_length=NOTES_MAX_LENGTH, label="Notes (optional)",
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="The note appears on the transaction.")

    def __init__(self, *args, organization: Organization, batches: list[CertificateBatch],
                 tracking_systems: Callable[[], list[TrackingSystem]], **kwargs):
        """`batches`: the batches to transfer (with their accounts); `tracking_systems` reads the
        active ones, called only when the page lists them or one was chosen."""
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.batches = batches
        accounts, sources = accounts_to_receive(organization, batches)
        self.accounts = {account.pk: account for account in accounts}
        self.accounts_not_offered = not_offered_text(sources)
        self.fields["account"].widget.choices = [("", "Choose an account")] + [
            (account.pk, str(account)) for account in accounts]
        self.read_tracking_systems = tracking_systems
        self.fields["tracking_system"].choices = lambda: [("", "Choose a tracking system")] + [
            (system.pk, str(system)) for system in self.tracking_systems.values()]

    @cached_property
    def tracking_systems(self) -> dict[int, TrackingSystem]:
        return {system.pk: system for system in self.read_tracking_systems()}

    def clean_account(self):
        """One of the accounts offered, or one the batches are in (clean says why not); for another,
        that it is no choice."""
        chosen = self.cleaned_data["account"]
        if chosen is None or chosen in self.accounts:
            return self.accounts.get(chosen)
        if held := batches_already_in(chosen, self.batches):
            return held[0].account
        raise forms.ValidationError("Select a valid choice: one of your organization's open active accounts.")

    def clean_tracking_system(self):
        chosen = self.cleaned_data["tracking_system"]
        return self.tracking_systems.get(chosen) if chosen else None

    def values(self) -> dict[str, str]:
        """Each field's value as the page shows it (posted, else initial), as text."""
        return {name: "" if self[name].value() is None else str(self[name].value()) for name in self.fields}

    def clean(self):
        """The destination's problems (Destination.problems), each on its field, once its fields
        are read."""
        data = super().clean()
        kind = data.get("kind")
        if kind == Transfer.Kind.ORGANIZATION and "organization" not in self.errors:
            try:
                data["recipient"] = recipient_from_text(self.organization, data.get("organization", ""))
            except forms.ValidationError as error:
                self.add_error("organization", error)
        if kind:
            problems = self._destination_of(data).problems(self.organization, batches=self.batches)
            for field, problem in problems.items():
                if (name := FORM_FIELDS[field]) not in self.errors:
                    self.add_error(name, problem)
        return data

    def destination(self) -> Destination:
        """The destination chosen, as the transfer service takes it."""
        return self._destination_of(self.cleaned_data)

    @staticmethod
    def _destination_of(data: dict) -> Destination:
        if data["kind"] == Transfer.Kind.INTERNAL:
            return Destination.internal(data.get("account"))
        if data["kind"] == Transfer.Kind.ORGANIZATION:
            return Destination.to_organization(data.get("recipient"))
        return Destination.export(data.get("tracking_system"), data.get("recipient_name") or "",
                                  data.get("recipient_account_ref") or "")

    def draft_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "account": data["account"].pk if data.get("account") and data["kind"] == Transfer.Kind.INTERNAL else None,
            "recipient": data["recipient"].pk if data.get("recipient") else None,
            "organization_text": data.get("organization", ""),
            "tracking_system": data["tracking_system"].pk if data.get("tracking_system")
            and data["kind"] == Transfer.Kind.EXPORT else None,
            "recipient_name": data.get("recipient_name", "") if data["kind"] == Transfer.Kind.EXPORT else "",
            "recipient_account_ref": data.get("recipient_account_ref", "")
            if data["kind"] == Transfer.Kind.EXPORT else "",
            "notes": data.get("notes", ""),
        }


