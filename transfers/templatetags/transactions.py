from django import template

from registry.models import Organization
from transfers.models import Transfer

register = template.Library()


@register.filter
def counterparty(transfer: Transfer, organization: Organization) -> str:
    """{{ transfer|counterparty:organization }}: Transfer.counterparty_label, for a template."""
    return transfer.counterparty_label(organization)
