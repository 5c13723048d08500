from django.conf import settings


def registry(request):
    membership = getattr(request, "membership", None)
    return {
        "registry_name": settings.REGISTRY_NAME,
        "memberships": getattr(request, "memberships", []) if membership else [],
        "membership": membership or None,
        "organization": membership.organization if membership else None,
    }
