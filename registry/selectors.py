from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django_otp.plugins.otp_totp.models import TOTPDevice

from ledger.models import LedgerEvent

from .activity import LOGGED_KINDS
from .invitations import EXPIRED, LinkRefused, token_read
from .models import Invitation, Membership, Organization, User

SESSION_KEY = "organization_id"
# Session keys whose values belong to the organization the user works in (the dashboard's selection
# of batches): switching organization drops them. The apps above this one add theirs.
ORGANIZATION_SESSION_KEYS: set[str] = set()
# A link in an email names the organization it was written for (organization_link): one of the
# reader's other organizations is offered to switch to (CurrentOrganizationMiddleware).
LINK_ORGANIZATION = "organization"


def organization_link(url: str, organization: Organization) -> str:
    """`url` for a member of `organization`, who may be working in another of theirs when they open it."""
    return f"{url}{'&' if '?' in url else '?'}{LINK_ORGANIZATION}={organization.public_id}"


def membership_for_link(request: HttpRequest) -> Membership | None:
    """The reader's membership of the organization a link was written for, when it is not the one they
    work in now (a GET with ?organization=<its public id>); None otherwise."""
    public_id = request.GET.get(LINK_ORGANIZATION) if request.method == "GET" else None
    if not public_id or request.membership is None or request.membership.organization.public_id == public_id:
        return None
    return next((m for m in request.memberships if m.organization.public_id == public_id), None)


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


def membership_required(request: HttpRequest, *, act: bool = False, manage: bool = False) -> Membership:
    """The current membership (NotAParticipant for a user with none); 403 when `act` and read-only,
    or when `manage` and not a manager."""
    membership = request.membership
    if not membership:
        raise NotAParticipant("You are not a member of any organization.")
    if act and not membership.can_transfer:  # the 403 page shows this message: which role may
        raise PermissionDenied(membership.read_only_note(
            may="transfer, accept, reject or withdraw them, and upload mass transfers"))
    if manage and not membership.is_manager:
        raise PermissionDenied(Membership.manager_only_note(membership.organization))
    return membership


def two_factor_on(user) -> bool:
    """Whether the user signs in with a code from an authenticator app (a confirmed TOTP device)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_device(user, *, confirmed: bool) -> TOTPDevice | None:
    """The user's authenticator: the one in use (`confirmed`), or the one started and not yet confirmed."""
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()


def two_factor_requiring(user) -> list[Organization]:
    """The user's organizations that require two-factor sign-in of their members, by name."""
    return list(Organization.objects.filter(memberships__user=user, require_two_factor=True).order_by("name"))


def members_of(organization: Organization) -> QuerySet[Membership]:
    """The organization's members, managers first, then by address; each with two_factor_on."""
    order = {Membership.Role.MANAGER: 0, Membership.Role.TRADER: 1, Membership.Role.VIEWER: 2}
    return (Membership.objects.filter(organization=organization).select_related("user")
            .annotate(two_factor_on=Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)))
            .order_by(Case(*[When(role=role, then=Value(rank)) for role, rank in order.items()]), "user__email"))


def member_of(organization: Organization, membership_id: int) -> Membership:
    """One member of the organization; another organization's is a 404."""
    return get_object_or_404(Membership.objects.filter(organization=organization).select_related("user"),
                             pk=membership_id)


def invitations_pending(organization: Organization) -> QuerySet[Invitation]:
    return (Invitation.objects.filter(organization=organization, status=Invitation.Status.PENDING)
            .select_related("invited_by").order_by("-sent_at"))


def invitation_of(organization: Organization, invitation_id: int) -> Invitation:
    """One invitation of the organization; another organization's is a 404."""
    return get_object_or_404(Invitation.objects.filter(organization=organization).select_related("organization"),
                             pk=invitation_id)


def invitation_by_token(token: str) -> Invitation:
    """The pending, unexpired invitation this link opens; LinkRefused, saying why, for any other."""
    invitation = (Invitation.objects.filter(token_hash=token_read(token)).select_related("organization", "invited_by")
                  .first())
    if invitation is None:  # a link that a resend replaced
        raise LinkRefused("This invitation link has been replaced by a newer one: use the link in the "
                          "latest email, or ask for a new invitation.")
    if invitation.status == Invitation.Status.ACCEPTED:
        raise LinkRefused("This invitation has already been used. Sign in to reach the organization.")
    if invitation.status == Invitation.Status.REVOKED:
        raise LinkRefused(f"This invitation was withdrawn by {invitation.organization.name}. Ask one of its "
                          "managers if you still need access.")
    if invitation.is_expired:
        raise LinkRefused(EXPIRED)
    return invitation


def activity_of(organization: Organization) -> QuerySet[LedgerEvent]:
    """The organization's activity log, newest first: its ledger events (every kind the log lists),
    and the events of transfers it sent or received filed under the other side."""
    return (LedgerEvent.objects
            .filter(Q(organization=organization) | Q(transfer__organization=organization)
                    | Q(transfer__recipient_organization=organization), kind__in=LOGGED_KINDS)
            .select_related("actor", "organization", "account", "transfer__recipient_organization",
                            "transfer__tracking_system")
            .order_by("-occurred_at", "-id"))


def acted_for(organization: Organization) -> Q:
    """Events one of the organization's people caused (registry.activity.acting_organization_id, as
    a query): filed under it, but for rejections, which are filed under the sender."""
    rejected = LedgerEvent.Kind.TRANSFER_REJECTED
    return (Q(organization=organization) & ~Q(kind=rejected)) | Q(kind=rejected,
                                                                   transfer__recipient_organization=organization)


def activity_people(organization: Organization) -> QuerySet[User]:
    """The people whose activity the organization's log lists: its members past and present who
    acted for it (not registry staff)."""
    acted = LedgerEvent.objects.filter(acted_for(organization)).values("actor")
    return User.objects.filter(pk__in=acted, is_staff=False).order_by("email")
