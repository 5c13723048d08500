"""Signing in: Django's ModelBackend, reading the signed-in user and their memberships at once."""

from django.contrib.auth.backends import ModelBackend

from utilities.rows import Columns, select_models

from .models import Membership, Organization, User

_MEMBERSHIP, _USER, _ORGANIZATION = Columns(Membership, "m"), Columns(User, "u"), Columns(Organization, "o")
MEMBERSHIPS_SQL = f"""
    SELECT {_MEMBERSHIP.sql}, {_USER.sql}, {_ORGANIZATION.sql}
    FROM {_MEMBERSHIP.table}
    JOIN {_USER.table} ON u.id = m.user_id
    JOIN {_ORGANIZATION.table} ON o.id = m.organization_id
    WHERE m.user_id = %s ORDER BY o.name
"""


class RegistryBackend(ModelBackend):
    """ModelBackend whose get_user, run once a request for the signed-in user, reads the user and
    their memberships (with organizations) in one written-once statement instead of two ORM
    queries, and leaves the memberships on the user for membership_current. A user with no
    membership (registry staff) costs the usual query. Hand-written for speed: with it and the
    other every-request reads written once (595e544), bench/wizard_load.py --floor's authenticated
    request went from 4.2-4.6 ms to 1.2-1.9 ms of CPU in process, 42/s to 82/s (that session's
    bench/README.md, in git's history)."""

    def get_user(self, user_id):
        rows = select_models(MEMBERSHIPS_SQL, [user_id], _MEMBERSHIP, _USER, _ORGANIZATION,
                             using=Membership.objects.db)
        if not rows:
            user = super().get_user(user_id)
            if user is not None:
                user.loaded_memberships = []
            return user
        user = rows[0][1]
        memberships = []
        for membership, _, organization in rows:
            membership.user, membership.organization = user, organization
            memberships.append(membership)
        user.loaded_memberships = memberships
        return user if self.user_can_authenticate(user) else None
