from django import template

from certificates.models import origin_text

register = template.Library()


@register.filter
def origin(record: dict) -> str:
    """An imported batch's origin as a retirement record keeps it ({tracking_system, original_serial}), in
    the words of certificates.models.origin_text."""
    return origin_text(record["tracking_system"], record["original_serial"]) if record else ""
