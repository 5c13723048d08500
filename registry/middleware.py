from django.utils.functional import SimpleLazyObject

from .logging import user_var
from .selectors import membership_current


class CurrentOrganizationMiddleware:
    """Puts the signed-in user's current membership (and so organization) on the request.

    Every page's queries start from request.membership.organization.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            user_var.set(str(request.user.pk))  # every log line of this request names its user
        request.membership = SimpleLazyObject(lambda: membership_current(request))
        return self.get_response(request)
