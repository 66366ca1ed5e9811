"""Template helpers: Bootstrap form widgets, money and query strings."""

from django import forms, template
from django.utils.translation import gettext as _

from portico.core.money import format_money

register = template.Library()


@register.filter
def is_checkbox(field) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_radio(field) -> bool:
    return isinstance(field.field.widget, forms.RadioSelect)


@register.filter
def is_select(field) -> bool:
    return isinstance(field.field.widget, forms.Select)


@register.simple_tag
def field_widget(field, css_class: str, row_label: str = ""):
    """Render a bound field's widget with Bootstrap classes and error state.

    A widget in a table row has no ``<label>``: ``row_label`` ("line 2",
    "INV-00001") names it for assistive technology, as "Quantity, line 2".
    """
    classes = css_class + (" is-invalid" if field.errors else "")
    attrs = {"class": classes}
    if field.errors:
        attrs["aria-invalid"] = "true"
    if row_label:
        attrs["aria-label"] = _("%(label)s, %(row)s") % {"label": field.label, "row": row_label}
    return field.as_widget(attrs=attrs)


@register.simple_tag
def choice_widget(choice, css_class: str):
    """Render one radio or checkbox of a multiple-choice field with a CSS class."""
    choice.data["attrs"] = {**choice.data["attrs"], "class": css_class}
    return choice.tag()


@register.simple_tag
def money(amount, currency: str):
    return format_money(amount, currency)


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced ('' removes one)."""
    query = context["request"].GET.copy()
    for name, value in changes.items():
        if value in ("", None):
            query.pop(name, None)
        else:
            query[name] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def quantity(value) -> str:
    """A quantity in the reader's locale, without trailing zeros: 1.5, 2, 0.25."""
    from portico.core.money import format_number

    return format_number(value)


@register.simple_tag
def percent(value) -> str:
    """A percentage in the reader's locale: 7.5 → "7.5%" (en), "7,5 %" (de)."""
    from portico.core.money import format_percent

    return format_percent(value)
