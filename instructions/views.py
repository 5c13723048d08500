from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from registry.selectors import membership_required
from registry.services import ServiceError
from transfers.forms import organizations_to_receive

from .forms import InstructionForm, destination_forms
from .selectors import instruction_of, instructions_of, runs_of
from .services import instruction_create, instruction_end

MAY = "set or end standing instructions"


@login_required
def instruction_list(request: HttpRequest) -> HttpResponse:
    """The organization's standing instructions: what each takes, from which generator or fuel, to where."""
    membership = membership_required(request)
    return render(request, "instructions/list.html", {
        "instructions": instructions_of(membership.organization), "can_act": membership.can_transfer,
        "role_note": None if membership.can_transfer else membership.read_only_note(may=MAY)})


@login_required
def instruction_new(request: HttpRequest) -> HttpResponse:
    """Set an instruction: one form, up to three destinations in priority order (no JavaScript needed)."""
    membership = membership_required(request, act=True)
    organization = membership.organization
    data = request.POST if request.method == "POST" else None
    form = InstructionForm(data, organization=organization)
    destinations = destination_forms(data, organization=organization)
    if data is not None and form.is_valid() & all([destination.is_valid() for destination in destinations]):
        try:
            instruction = instruction_create(
                organization=organization, user=request.user, **form.source(),
                from_vintage=form.cleaned_data["from_vintage"], until_vintage=form.cleaned_data["until_vintage"],
                irrevocable=form.cleaned_data["irrevocable"], **form.share_given(),
                destinations=[choice for destination in destinations if (choice := destination.choice())])
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Standing instruction {instruction.pk} is set: it applies to each new "
                                      f"issuance of {instruction.source_label}, vintages {instruction.vintages_label}.")
            return redirect("instructions:detail", instruction.pk)
    return render(request, "instructions/new.html", {
        "form": form, "destinations": destinations,
        "organizations": organizations_to_receive(organization).order_by("name")[:200]})


@login_required
def instruction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One instruction and what it did with each issuance."""
    membership = membership_required(request)
    instruction = instruction_of(membership.organization, pk)
    return render(request, "instructions/detail.html", {
        "instruction": instruction, "runs": runs_of(instruction)[:500],
        "can_end": membership.can_transfer and instruction.is_active and not instruction.irrevocable,
        "role_note": None if membership.can_transfer else membership.read_only_note(may=MAY)})


@login_required
def instruction_end_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks before ending (a page, so it works without JavaScript); the POST ends it."""
    membership = membership_required(request, act=True)
    instruction = instruction_of(membership.organization, pk)
    if request.method == "POST":
        try:
            instruction_end(instruction=instruction, user=request.user, organization=membership.organization)
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Standing instruction {instruction.pk} has ended: new issuances are no "
                                      "longer touched by it. What it moved stays where it went.")
        return redirect("instructions:detail", instruction.pk)
    return render(request, "instructions/end.html", {"instruction": instruction})
