"""A transfer's or retirement's request body read with the wizard's own forms: the batches a transfer
may take (selection_batches), each quantity (QuantityForm), the destination (DestinationForm), a
retirement's account, option and details (RetirementForm, whose problems are
RetirementDetails.problems()), the account to accept into (AcceptForm). The API only names the
objects by their public ids and puts each form error under the request's own field, so a rule of the
wizard is never written twice."""

from collections.abc import Iterable

from django import forms
from rest_framework import serializers

from accounts.models import Account
from certificates.models import CertificateBatch
from certificates.selectors import selection_batches
from registry.models import Organization, TrackingSystem
from retirements.forms import RetirementForm
from retirements.models import RetirementOption
from retirements.services import RetirementDetails
from transfers.forms import AcceptForm, DestinationForm, QuantityForm
from transfers.selectors import tracking_systems_to_export_to
from transfers.services import Destination, TransferLine

# A choice the request named by an id no row has: the form refuses it in its own words.
NO_SUCH_CHOICE = 0

Path = tuple[str | int, ...]


def refuse(problems: Iterable[tuple[Path, str]]) -> None:
    """Raise `problems` (each the path of the request's field, and the message) nested as DRF nests a
    serializer's own errors ({"lines": {1: {"quantity": [...]}}}), which the problem details name
    field by field."""
    errors: dict = {}
    for path, message in problems:
        node = errors
        for step in path[:-1]:
            node = node.setdefault(step, {})
        node.setdefault(path[-1], []).append(message)
    if errors:
        raise serializers.ValidationError(errors)


def form_problems(form: forms.Form, fields: dict[str, Path]) -> list[tuple[Path, str]]:
    """A form's errors under the request's fields (`fields`: form field -> path; "__all__" too)."""
    return [(fields.get(name, (name,)), message) for name, messages in form.errors.items() for message in messages]


def lines_read(organization: Organization, lines: list[dict]) -> tuple[list[CertificateBatch], list[TransferLine]]:
    """The request's lines as the services take them, once each names an active batch of the
    organization (the batches a transfer may start from, as the wizard's) and a quantity the wizard's
    step 1 accepts for it."""
    wanted = [line["batch"] for line in lines]
    found = {batch.pk: batch for batch in selection_batches(organization, wanted)}
    problems = [(("lines", index, "batch"), f"Batch {line['batch']} is not an active batch of {organization.name} "
                                            f"(/api/v1/batches/{line['batch']}/ shows what became of it).")
                for index, line in enumerate(lines) if line["batch"] not in found]
    batches = list(found.values())
    quantities = QuantityForm({f"quantity_{line['batch']}": line["quantity"] for line in lines},
                              batches=batches, quantities={})
    for index, line in enumerate(lines):
        for message in quantities.errors.get(f"quantity_{line['batch']}", []):
            problems.append((("lines", index, "quantity"), message))
    refuse(problems)
    return batches, [TransferLine(line["batch"], line["quantity"]) for line in lines]


def _account_choice(organization: Organization, public_id: str, offered: Iterable[Account] = ()) -> int:
    """The id of the organization's account named `public_id` (whatever its type or status: the form
    says why it cannot be used), or NO_SUCH_CHOICE. One of the accounts the form `offered` is found
    without a query."""
    public_id = public_id.strip().upper()
    if chosen := next((account.pk for account in offered if account.public_id == public_id), None):
        return chosen
    found = Account.objects.of(organization).filter(public_id=public_id).order_by().values_list("pk", flat=True)
    return next(iter(found), NO_SUCH_CHOICE)


DESTINATION_FIELDS: dict[str, Path] = {
    "kind": ("destination", "type"), "account": ("destination", "account"),
    "organization": ("destination", "organization"), "tracking_system": ("destination", "tracking_system"),
    "recipient_name": ("destination", "recipient_name"),
    "recipient_account_ref": ("destination", "recipient_account_ref"), "notes": ("notes",),
    "__all__": ("destination",),
}


def destination_read(organization: Organization, batches: list[CertificateBatch], destination: dict,
                     notes: str) -> Destination:
    """The destination as the transfer service takes it, checked by the wizard's step 2."""
    kind = destination["type"]
    data = {"kind": kind, "notes": notes, "organization": destination.get("organization", ""),
            "recipient_name": destination.get("recipient_name", ""),
            "recipient_account_ref": destination.get("recipient_account_ref", "")}
    if "tracking_system" in destination:
        code = destination["tracking_system"].strip()
        system = TrackingSystem.objects.filter(code__iexact=code).values_list("pk", flat=True)
        data["tracking_system"] = next(iter(system), code)  # an unknown code: the form says it is no choice
    form = DestinationForm(data, organization=organization, batches=batches,
                           tracking_systems=tracking_systems_to_export_to)
    if "account" in destination:  # the form reads its data when validated: the account it offers, by its id
        data["account"] = _account_choice(organization, destination["account"], form.accounts.values())
    if not form.is_valid():
        refuse(form_problems(form, DESTINATION_FIELDS))
    return form.destination()


RETIREMENT_FIELDS: dict[str, Path] = {name: (name,) for name in RetirementForm.base_fields} | {"__all__": ("option",)}


def retirement_read(organization: Organization, data: dict) -> tuple[Account, RetirementDetails]:
    """The retirement account and details as retirement_create takes them, checked by the wizard's
    step 2 of a retirement (its details' problems are RetirementDetails.problems(), field by field)."""
    option = RetirementOption.objects.filter(name__iexact=data["option"].strip()).values_list("pk", flat=True)
    form = RetirementForm({**{name: data[name] for name in ("compliance_period", "period_start", "period_end",
                                                            "beneficiary", "notes") if data.get(name) is not None},
                           "account": _account_choice(organization, data["account"]),
                           "option": next(iter(option), NO_SUCH_CHOICE)}, organization=organization)
    if not form.is_valid():
        refuse(form_problems(form, RETIREMENT_FIELDS))
    return form.cleaned_data["account"], form.details()


def accept_account_read(organization: Organization, public_id: str) -> Account:
    """The account to accept a transfer into, checked by the accept page's form."""
    form = AcceptForm({"account": _account_choice(organization, public_id)}, organization=organization)
    if not form.is_valid():
        refuse(form_problems(form, {"account": ("account",), "__all__": ("account",)}))
    return form.cleaned_data["account"]
