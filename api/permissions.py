"""Which scope of key each API view needs.

A view declares `required_scope = ApiKey.Scope.READ` (or TRADE or RETIRE). A ViewSet, or a view
whose methods differ, declares `scopes = {"create": ApiKey.Scope.TRADE, "list": ApiKey.Scope.READ}`
keyed by the ViewSet's action, or for a plain APIView by the lower-case HTTP method
(`{"get": READ, "post": TRADE}`); a name missing from `scopes` falls back to `required_scope`.
A view that declares neither refuses every request (a forgotten declaration never opens a view).

Scopes include the ones before them (read < trade < retire: ApiKey.grants), and a key's scope never
exceeds its creator's current role (checked on every request by api.authentication). Which role a
scope needs: read — any member; trade (transfers: create, accept, reject, withdraw; mass uploads)
and retire (retirements) — a manager or trader (Membership.ROLES_THAT_TRANSFER).
"""

from rest_framework import permissions

from .models import ApiKey


def scope_required(view, request) -> str | None:
    scopes = getattr(view, "scopes", {})
    action = getattr(view, "action", None) or request.method.lower()
    return scopes.get(action, getattr(view, "required_scope", None))


class HasScope(permissions.BasePermission):
    message = "This API key's scope does not allow this request."

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False  # no key: DRF answers 401 (the authenticator's WWW-Authenticate)
        if not hasattr(view, request.method.lower()):
            return True  # a method the operation does not take: DRF's 405 (with Allow), not a scope's 403
        scope = scope_required(view, request)
        if scope is None:
            return False
        if not api_key.grants(scope):
            self.message = (f"This API key's scope is {api_key.scope}; this request needs a key with the "
                            f"{scope} scope.")
            return False
        return True
