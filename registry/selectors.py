from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import Membership

SESSION_KEY = "organization_id"


class NotAParticipant(PermissionDenied):
    """The signed-in user is a member of no organization: registry staff, or someone not yet added.
    CurrentOrganizationMiddleware answers it with the admin site or a page saying whom to ask."""


def membership_current(request: HttpRequest) -> Membership | None:
    """The membership the user works in: the one chosen in the session, else the first."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = getattr(user, "loaded_memberships", None)  # read with the user (registry.auth)
    if memberships is None:
        memberships = list(Membership.objects.filter(user_id=user.pk).select_related("organization")
                           .order_by("organization__name"))
    request.memberships = memberships  # the header's organization switcher, without another query
    chosen = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.organization_id == chosen:
            return membership
    return memberships[0] if memberships else None


def membership_required(request: HttpRequest, *, act: bool = False) -> Membership:
    """The current membership (NotAParticipant for a user with none); 403 when `act` and read-only."""
    membership = request.membership
    if not membership:
        raise NotAParticipant("You are not a member of any organization.")
    if act and not membership.can_transfer:  # the 403 page shows this message: which role may
        raise PermissionDenied(membership.read_only_note(
            may="transfer, accept, reject or withdraw them, and upload mass transfers"))
    return membership
