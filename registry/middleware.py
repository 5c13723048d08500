from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import LazyObject
from django_htmx.http import HttpResponseClientRedirect

from utilities.logging import user_var
from utilities.time_zones import in_time_zone

from .selectors import NotAParticipant, membership_current, membership_for_link
from .views import not_a_participant, organization_for_link


class CurrentOrganizationMiddleware:
    """Puts the signed-in user's current membership (and so organization) on the request.

    Every page's queries start from request.membership.organization. The memberships come with
    the user (registry.auth), so this costs no query of its own; and request.user becomes the user
    itself rather than the lazy proxy the auth middleware put there, which templates and views
    read hundreds of times a request at a few microseconds each.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            while isinstance(user, LazyObject):  # django-otp's proxy around the auth middleware's
                user = user._wrapped  # both evaluated by is_authenticated
            request.user = user
            user_var.set(str(user.pk))  # every log line of this request names its user
            request.membership = membership_current(request)
            if self.two_factor_missing(request):
                return self.to_two_factor_setup(request)
            if linked := membership_for_link(request):
                return organization_for_link(request, linked)
        else:
            request.membership = None
        return self.get_response(request)

    @staticmethod
    def two_factor_missing(request) -> bool:
        """The current organization requires two-factor sign-in and this session did not sign in with
        it (django-otp's is_verified: a code at sign-in, or two-factor just turned on)."""
        membership = request.membership
        return (membership is not None and membership.organization.require_two_factor
                and not request.user.is_verified()
                and request.path not in (reverse("two-factor"), reverse("logout")))

    @staticmethod
    def to_two_factor_setup(request):
        organization = request.membership.organization
        messages.info(request, f"{organization.name} requires two-factor sign-in: set it up to continue. If "
                               "it is on already, sign out and sign in again with your code.")
        if request.htmx:
            return HttpResponseClientRedirect(reverse("two-factor"))
        return redirect("two-factor")

    def process_exception(self, request, exception):
        if isinstance(exception, NotAParticipant):  # raised by membership_required
            return not_a_participant(request)
        return None


class TimeZoneMiddleware:
    """Dates and times in the signed-in user's time zone: on the pages, in the downloads (a streamed
    CSV keeps it: utilities.csv_export) and in the admin site; in the registry's for anyone else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with in_time_zone(request.user.time_zone if request.user.is_authenticated else None):
            return self.get_response(request)
