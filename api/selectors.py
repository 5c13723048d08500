from django.db import connection
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from registry.models import Membership, Organization, User

from .models import ApiKey


def api_keys_of(organization: Organization) -> QuerySet[ApiKey]:
    """The organization's keys, newest first, with who made and who revoked them."""
    return (ApiKey.objects.filter(organization=organization).select_related("created_by", "revoked_by")
            .order_by("-created"))


def api_key_of(organization: Organization, prefix: str) -> ApiKey:
    """One of the organization's keys, by its prefix (the part of the key shown on the page);
    another organization's is a 404."""
    return get_object_or_404(api_keys_of(organization), prefix=prefix)


def _columns(model, alias: str) -> list[str]:
    return [f'{alias}."{field.column}"' for field in model._meta.concrete_fields]


_KEY_SQL = f"""
    SELECT {", ".join(_columns(ApiKey, "k") + _columns(Organization, "o") + _columns(User, "u"))}, m.role
    FROM {ApiKey._meta.db_table} k
    JOIN {Organization._meta.db_table} o ON o.id = k.organization_id
    JOIN {User._meta.db_table} u ON u.id = k.created_by_id
    LEFT JOIN {Membership._meta.db_table} m ON m.user_id = k.created_by_id AND m.organization_id = k.organization_id
    WHERE k.prefix = %s
"""


def api_key_by_prefix(prefix: str) -> ApiKey | None:
    """The key whose prefix this is, with its organization, its creator and the creator's role in
    the organization now (`creator_role`, None once they left it): one query a request.

    Hand-written SQL (STYLE.md habit 14), its columns the models' own, because every API request
    makes it: the ORM's query (select_related and a subquery for the role) took 3,978 function calls
    and 1.25 ms of CPU to build and read, this 252 and 0.12 ms (measured in process, as
    bench/api_request.py runs the request)."""
    with connection.cursor() as cursor:
        cursor.execute(_KEY_SQL, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    values, parts = list(row), []
    for model in (ApiKey, Organization, User):
        fields = model._meta.concrete_fields
        parts.append(model.from_db(connection.alias, [field.attname for field in fields], values[:len(fields)]))
        del values[:len(fields)]
    api_key, organization, creator = parts
    ApiKey.organization.field.set_cached_value(api_key, organization)
    ApiKey.created_by.field.set_cached_value(api_key, creator)
    api_key.creator_role = values[0]
    return api_key
