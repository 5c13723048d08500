"""The status badge every page shows (a transfer's, an account's, an upload's, a webhook's...): its
HTML written once. A built-in of the templates (settings.TEMPLATES), so no page loads it."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def status_badge(record=None, *, status: str = "", label: str = "") -> SafeString:
    """`{% status_badge transfer %}`: a record's status, coloured by its value and worded by its
    label (`status`, `get_status_display`). `{% status_badge status="active" label="On" %}`: a
    state that is not a status field; without `status`, a plain grey badge."""
    if record is not None:
        status, label = record.status, record.get_status_display()
    return format_html('<span class="status{}">{}</span>', f" status-{status}" if status else "", label)
