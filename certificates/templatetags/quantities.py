"""Quantities of certificates as the pages write them, by certificates.units' one rule."""

from decimal import Decimal

from django import template

from certificates.units import mwh_text

register = template.Library()


@register.filter
def mwh(value: Decimal | int | None) -> str:
    """MWh grouped, exact, without trailing zeros: `1,000.000001`, `5`."""
    return mwh_text(value or 0)
