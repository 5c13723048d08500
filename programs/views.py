"""The programs' pages of participants and regulators (issue #29, item 3): an organization's
invitations to programs and its program retirement accounts (its managers'), and the programs a
regulator administers, with who was invited to each (its members'; its managers invite). The
retirements toward a regulator's programs are read on the Retired tab (retirements.selectors)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from registry.models import Membership
from registry.selectors import membership_required
from registry.services import ServiceError

from .forms import ParticipantInviteForm, ProgramAccountOpenForm
from .participation import (
    invitation_sent_text,
    participation_decide,
    participation_invite,
    participation_of,
    participations_in,
    participations_of,
    program_account_open,
    program_accounts_of,
    program_administered_by,
    programs_administered_by,
)


def _participation_page(request: HttpRequest, membership: Membership, *, account_form=None,
                        account_form_for: int | None = None, status: int = 200) -> HttpResponse:
    organization = membership.organization
    accounts = list(program_accounts_of(organization))
    participations = [(participation, [link.account for link in accounts
                                       if link.program_id == participation.program_id])
                      for participation in participations_of(organization)]
    return render(request, "programs/participation.html", {
        "participations": participations, "account_form": account_form or ProgramAccountOpenForm(),
        "account_form_for": account_form_for}, status=status)


@login_required
def participation_list(request: HttpRequest) -> HttpResponse:
    """The organization's invitations to programs, the programs it joined and their retirement
    accounts: its managers' (an Organization tab)."""
    if request.membership and request.membership.organization.is_regulator:
        return redirect("programs:administered")
    return _participation_page(request, membership_required(request, manage=True))


@login_required
@require_POST
def participation_answer(request: HttpRequest, participation_id: int) -> HttpResponse:
    """Join a program the organization was invited to (`answer=join`), or decline it."""
    membership = membership_required(request, manage=True)
    participation = participation_of(membership.organization, participation_id)
    join = request.POST.get("answer") == "join"
    try:
        participation_decide(user=request.user, participation=participation, join=join)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{membership.organization.name} joined {participation.program.name}: open its "
                                  "retirement account below." if join else
                         f"{membership.organization.name} declined to join {participation.program.name}.")
    return redirect("programs:participation")


@login_required
@require_POST
def program_account_new(request: HttpRequest, participation_id: int) -> HttpResponse:
    """Open a retirement account for a program the organization joined."""
    membership = membership_required(request, manage=True)
    participation = participation_of(membership.organization, participation_id)
    form = ProgramAccountOpenForm(request.POST)
    if form.is_valid():
        try:
            account = program_account_open(user=request.user, participation=participation,
                                           name=form.cleaned_data["name"])
        except ServiceError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Retirement account {account.name} ({account.public_id}) is open for "
                                      f"{participation.program.name}: what is retired into it counts toward it.")
            return redirect("programs:participation")
    return _participation_page(request, membership, account_form=form, account_form_for=participation.pk,
                               status=400)


def _regulator_required(request: HttpRequest) -> Membership:
    """A member (any role) of a regulator organization; anyone else is refused (403)."""
    membership = membership_required(request)
    if not membership.organization.is_regulator:
        raise PermissionDenied("Only a regulator's members see the programs it administers.")
    return membership


def _administered_page(request: HttpRequest, membership: Membership, *, invite_form=None,
                       invite_form_for: int | None = None, status: int = 200) -> HttpResponse:
    programs = [(program, participations_in(program)) for program in programs_administered_by(membership.organization)]
    return render(request, "programs/administered.html", {
        "programs": programs, "can_invite": membership.is_manager,
        "invite_form": invite_form or ParticipantInviteForm(), "invite_form_for": invite_form_for}, status=status)


@login_required
def administered_list(request: HttpRequest) -> HttpResponse:
    """The programs the regulator administers and the organizations invited to each, with links to
    the retirements toward them (the Retired tab, its CSV and the annual report)."""
    return _administered_page(request, _regulator_required(request))


@login_required
@require_POST
def participant_invite(request: HttpRequest, program_id: int) -> HttpResponse:
    """Invite an organization to a program the regulator administers (its managers)."""
    membership = _regulator_required(request)
    program = program_administered_by(membership.organization, program_id)
    if not membership.is_manager:
        raise PermissionDenied(Membership.manager_only_note(membership.organization))
    form = ParticipantInviteForm(request.POST)
    if form.is_valid():
        organization = form.cleaned_data["organization"]
        try:
            participation = participation_invite(user=request.user, program=program, organization=organization)
        except ServiceError as error:
            form.add_error("organization", str(error))
        else:
            messages.success(request, invitation_sent_text(participation))
            return redirect("programs:administered")
    return _administered_page(request, membership, invite_form=form, invite_form_for=program.pk, status=400)
