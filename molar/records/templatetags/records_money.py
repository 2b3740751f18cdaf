from django import template

from molar.records.pdf import money as _money

register = template.Library()


@register.filter
def money(value) -> str:
    """$1,234.50, -$20.00: the same figures as the PDFs."""
    return _money(value) if value is not None else ""
