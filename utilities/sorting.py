"""How a list is sorted by a column the query string names: one reading of `?sort=` for every table."""

from django.db.models import QuerySet


def sorted_by_column(queryset: QuerySet, sort: str, columns: dict[str, tuple[str, ...]],
                     default: str) -> tuple[QuerySet, str]:
    """`queryset` in the order `sort` names: a key of `columns`, ascending, or with a leading "-"
    descending; anything else is `default`. Descending reverses only the column's first field (the
    others break its ties in their own order), and the primary key breaks what ties remain, so a
    page never shows a row twice. Returns the queryset and the sort it was given."""
    key = sort.removeprefix("-")
    if key not in columns:
        sort, key = default, default.removeprefix("-")
    fields = columns[key]
    if sort.startswith("-"):
        fields = ("-" + fields[0], *fields[1:])
    return queryset.order_by(*fields, "pk"), sort
