from django import template

register = template.Library()


@register.filter
def sort_toggle(key: str, current: str) -> str:
    """The sort a column header links to: ascending first, descending when already ascending."""
    return f"-{key}" if current == key else key
