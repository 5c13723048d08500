from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .display import number_text


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger records are read in the admin, never added, changed or deleted there (not even by a
    superuser posting the form by hand: Django answers 403 without these permissions)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def number_column(field: str, description: str):
    """A list column of a quantity or count written as everywhere else (45,855), sorted by the field."""
    @admin.display(description=description, ordering=field)
    def column(obj):
        return number_text(getattr(obj, field))

    column.__name__ = field
    return column


def admin_link(obj, text=None):
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text or str(obj))


def admin_links(objects):
    return format_html_join(mark_safe("<br>"), "{}", ((admin_link(obj),) for obj in objects)) or "—"
