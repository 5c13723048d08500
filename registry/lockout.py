"""Sign-in lockouts (django-axes): an account is locked after LOGIN_FAILURE_LIMIT failures from
any addresses; an address only after LOGIN_ADDRESS_FAILURE_LIMIT failures for any accounts, so one
person behind an office's shared proxy cannot lock out everyone else there."""

import datetime
import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def sign_in_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account a sign-in names: the form's email address, in the case the registry keeps it
    (sign-in ignores case, so a different case is the same account, not a fresh count)."""
    source = credentials if credentials else request.POST
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    return username.strip().lower() if username else None


class AccountLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit of its own for each of AXES_LOCKOUT_PARAMETERS: the
    account's (LOGIN_FAILURE_LIMIT), then the address's (LOGIN_ADDRESS_FAILURE_LIMIT)."""

    def _lockouts(self, request, credentials) -> list[tuple[list[tuple[datetime.datetime, int]], int]]:
        """The account's and the address's recent failures, as (time, failures) rows oldest first,
        each with its limit."""
        rows = [list(attempts.order_by("attempt_time").values_list("attempt_time", "failures_since_start"))
                for attempts in self.get_user_attempts(request, credentials)]
        return list(zip(rows, [settings.AXES_FAILURE_LIMIT, settings.LOGIN_ADDRESS_FAILURE_LIMIT], strict=True))

    def get_failures(self, request, credentials=None) -> int:
        # Axes compares this one number with AXES_FAILURE_LIMIT: the account's failures, or the
        # limit itself once the address has reached its own.
        (account, _), (address, address_limit) = (
            (sum(failures for _, failures in rows), limit) for rows, limit in self._lockouts(request, credentials))
        if address >= address_limit:
            return max(account, settings.AXES_FAILURE_LIMIT)
        return account

    def reset_user_attempts(self, request, credentials=None) -> int:
        """A successful sign-in clears that account's failures, not its address's: those count other
        accounts' failures too, and signing in to one's own account must not wipe them."""
        count, _ = AccessAttempt.objects.filter(username=get_client_username(request, credentials)).delete()
        return count

    def locked_until(self, request, credentials=None) -> datetime.datetime:
        """When every lockout that holds this sign-in has lifted: a failure counts for the cool-off
        after it (AXES_COOLOFF_TIME), so a lockout lifts once its oldest failures leave it under
        its limit."""
        cool_off = get_cool_off(request)
        until = timezone.now()
        for rows, limit in self._lockouts(request, credentials):
            remaining = sum(failures for _, failures in rows)
            for attempt_time, failures in rows:
                if remaining < limit:
                    break
                remaining -= failures
                until = max(until, attempt_time + cool_off)
        return until


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """The locked page (AXES_LOCKOUT_CALLABLE), saying when sign-in opens again."""
    until = AccountLockoutHandler().locked_until(request, credentials)
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    return render(request, "registration/locked_out.html", {"until": until, "minutes": minutes},
                  status=settings.AXES_HTTP_RESPONSE_CODE)
