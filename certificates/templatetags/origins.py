from django import template

from certificates.models import origin_text
from certificates.periods import period_shown

register = template.Library()


@register.filter
def origin(record: dict) -> str:
    """An imported batch's origin as a retirement record keeps it ({tracking_system, original_serial}), in
    the words of certificates.models.origin_text."""
    return origin_text(record["tracking_system"], record["original_serial"]) if record else ""


@register.filter
def vintage(data_text: str) -> str:
    """A batch's vintage as a retirement record keeps it (ProductionPeriod.data_text: an interval in ISO
    8601), as people read it (str(ProductionPeriod))."""
    return period_shown(data_text)
