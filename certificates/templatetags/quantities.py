"""Quantities of certificates as the pages write them, by certificates.units' one rule."""

from decimal import Decimal

from django import template

from certificates.units import Quantities, mwh_text

register = template.Library()


@register.filter
def mwh(value: Decimal | int | None) -> str:
    """MWh grouped, exact, without trailing zeros: `1,000.000001`, `5`."""
    return mwh_text(value or 0)


@register.filter
def per_unit(recs: int | None, wh: int | None) -> str:
    """Monthly RECs and hourly certificates kept apart: `5 MWh`, `1,000,000 Wh`, `5 MWh and 1,000,000 Wh`."""
    return Quantities(recs or 0, wh or 0).text
