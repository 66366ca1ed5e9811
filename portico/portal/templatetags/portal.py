"""Template helpers of the customer portal, in Python where a page would
otherwise run many template nodes per row (lists of 25 documents)."""

import datetime
from functools import lru_cache

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import formats, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language_info, gettext
from django.utils.translation import gettext_lazy as _

from portico.core.money import format_money

register = template.Library()

# Badge colour of each status, per kind of document; the rest are dark.
_BADGE_TONES = {
    "quote": {
        "sent": "primary",
        "accepted": "success",
        "declined": "danger",
        "expired": "warning",
        None: "info",
    },
    "invoice": {
        "sent": "primary",
        "partially_paid": "warning",
        "paid": "success",
        "overdue": "danger",
    },
    "sales_order": {"confirmed": "primary", "invoiced": "success"},
    "credit_note": {"open": "primary", "closed": "success"},
}


@register.simple_tag
def portal_status_badge(document, kind_name: str) -> str:
    """A document's status as the customer reads it (an expired quote, an
    overdue invoice; an overdue invoice paid in part says so too)."""
    tones = _BADGE_TONES.get(kind_name)
    if tones is None:
        return ""
    if kind_name in ("quote", "invoice"):
        status, label = document.display_status, document.get_display_status_display()
    else:
        status, label = document.status, document.get_status_display()
    badge = format_html(
        '<span class="badge text-bg-{}">{}</span>',
        tones.get(status, tones.get(None, "dark")),
        label,
    )
    if kind_name == "invoice" and status == "overdue" and document.status == "partially_paid":
        badge += format_html(
            ' <span class="badge text-bg-warning">{}</span>', gettext("Partially paid")
        )
    return badge


_FULFILMENT_TONES = {
    "shipped": "bg-success-subtle text-success-emphasis",
    "partially_shipped": "bg-warning-subtle text-warning-emphasis",
}


@register.simple_tag
def portal_fulfilment_badge(order) -> str:
    """How much of a sales order has shipped."""
    return format_html(
        '<span class="badge rounded-pill {}">'
        '<i class="bi bi-truck" aria-hidden="true"></i> {}</span>',
        _FULFILMENT_TONES.get(order.fulfilment_status, "bg-body-secondary text-body-secondary"),
        order.get_fulfilment_status_display(),
    )


_INVOICE_ROW = (
    "<tr>"
    '<td class="portal-cell-primary"><a class="stretched-link fw-medium" href="{url}">{number}</a>'
    '<span class="d-md-none">{badge}</span></td>'
    '<td data-label="{label_date}" class="text-nowrap">{date}</td>'
    '<td data-label="{label_reference}">{reference}</td>'
    '<td data-label="{label_due_date}" class="text-nowrap{overdue}">{due_date}</td>'
    '<td data-label="{label_status}" class="d-none d-md-table-cell">{badge}</td>'
    '<td data-label="{label_total}" class="text-end text-nowrap">{total}</td>'
    '<td data-label="{label_balance_due}" class="text-end text-nowrap fw-medium">{balance}</td>'
    "</tr>\n"
)
_PAY_NOW = (
    '<span class="d-inline-flex align-items-center gap-2">{balance} '
    '<a class="btn btn-sm btn-primary position-relative z-2" href="{url}?invoice={pk}"'
    ' aria-label="{label}">{pay_now}</a></span>'
)


@register.simple_tag(takes_context=True)
def portal_invoice_rows(context, invoices, pay) -> str:
    """The rows of the portal's invoice list (``_invoice_results.html``):
    number, dates, reference, status, total and balance due, with a Pay now
    button when the contact may pay the invoice online. Built here rather
    than in a template loop: 25 rows of template nodes were most of the page."""
    from portico.online_payments.templatetags.online_payments import payable_online

    request = context["request"]
    list_url = context["list_url"]
    labels = {
        "label_date": gettext("Date"),
        "label_reference": gettext("Reference"),
        "label_due_date": gettext("Due date"),
        "label_status": gettext("Status"),
        "label_total": gettext("Total"),
        "label_balance_due": gettext("Balance due"),
    }
    pay_url = None  # asked of pay.available at the first invoice not void (a query)
    rows = []
    for invoice in invoices:
        if invoice.status != "void" and pay_url is None:
            pay_url = ""
            if pay.available:
                portal_name = request.organization.portal_name
                pay_url = reverse("portal:pay", kwargs={"portal_name": portal_name})
        if invoice.status == "void":
            balance = mark_safe('<span class="text-body-secondary">—</span>')
        elif pay_url and payable_online(invoice):
            balance = format_html(
                _PAY_NOW,
                balance=format_money(invoice.balance_due, invoice.currency),
                url=pay_url,
                pk=invoice.pk,
                label=gettext("Pay invoice %(number)s now") % {"number": invoice.number},
                pay_now=gettext("Pay now"),
            )
        else:
            balance = format_money(invoice.balance_due, invoice.currency)
        rows.append(
            format_html(
                _INVOICE_ROW,
                url=f"{list_url}{invoice.pk}/",
                number=invoice.number,
                badge=portal_status_badge(invoice, "invoice"),
                date=local_date(invoice.date),
                reference=invoice.reference,
                overdue=mark_safe(" text-danger") if invoice.is_overdue else "",
                due_date=local_date(invoice.due_date),
                total=format_money(invoice.total, invoice.currency),
                balance=balance,
                **labels,
            )
        )
    return mark_safe("".join(rows))


@lru_cache(maxsize=4096)
def _local_date(value: datetime.date, language: str) -> str:
    return formats.date_format(value, "DATE_FORMAT")


@register.filter
def local_date(value) -> str:
    """``value|date:"DATE_FORMAT"`` (the date in the reader's locale), with
    each day's text kept per language: a list shows the same days often."""
    if value in (None, ""):
        return ""
    if type(value) is datetime.date:  # a datetime depends on the time zone too
        return _local_date(value, translation.get_language())
    return formats.date_format(value, "DATE_FORMAT")


# The portal's navigation: the module (None: always), URL name, icon, label,
# and the section (the current URL name less _list/_detail/_pdf) it marks active.
_NAV = [
    (None, "home", "house", _("Home"), "home"),
    ("quotes", "quote_list", "file-earmark-text", _("Quotes"), "quote"),
    ("sales_orders", "sales_order_list", "box-seam", _("Sales orders"), "sales_order"),
    ("invoices", "invoice_list", "receipt", _("Invoices"), "invoice"),
    ("payments", "payment_list", "cash-coin", _("Payments"), "payment"),
    ("credit_notes", "credit_note_list", "journal-minus", _("Credit notes"), "credit_note"),
    ("statement", "statement", "journal-text", _("Statement"), "statement"),
    ("projects", "project_list", "clock-history", _("Projects"), "project"),
]


@lru_cache(maxsize=1024)
def _nav_urls(portal_name: str, script_prefix: str, urlconf) -> dict[str, str]:
    """The navigation's URLs of one portal (reversed once per process)."""
    return {
        name: reverse(f"portal:{name}", kwargs={"portal_name": portal_name}, urlconf=urlconf)
        for _module, name, _icon, _label, _section in _NAV
    }


@register.simple_tag(takes_context=True)
def portal_nav(context) -> str:
    """The items of the signed-in portal's navigation: the modules the contact
    sees (``request.portal_modules``), the current one marked."""
    request = context["request"]
    urls = _nav_urls(request.organization.portal_name, get_script_prefix(), get_urlconf())
    name = request.resolver_match.url_name
    section = name.replace("_list", "").replace("_detail", "").replace("_pdf", "")
    modules = request.portal_modules
    items = []
    for module, url_name, icon, label, item_section in _NAV:
        if module is not None and module not in modules:
            continue
        active = name == "home" if module is None else section == item_section
        items.append(
            (
                mark_safe(" active") if active else "",
                mark_safe(' aria-current="page"') if module is None and active else "",
                urls[url_name],
                icon,
                label,
            )
        )
    return format_html_join(
        "\n",
        '<li class="nav-item">'
        '<a class="nav-link{}"{} href="{}"><i class="bi bi-{}"></i> {}</a></li>',
        items,
    )


@lru_cache(maxsize=16)
def _language_names(codes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Each language in its own name ("Deutsch", "日本語")."""
    return tuple((code, capfirst(get_language_info(code)["name_local"])) for code in codes)


@register.simple_tag
def portal_language_options(access) -> str:
    """The <option>s of the footer's language switcher: "Default (…)", the
    customer's portal language, then every language, the contact's own selected."""
    default = capfirst(get_language_info(access.customer.portal_language)["name_local"])
    options = [
        format_html(
            '<option value=""{}>{}</option>',
            "" if access.language else mark_safe(" selected"),
            gettext("Default (%(language)s)") % {"language": default},
        )
    ]
    options += [
        format_html(
            '<option value="{}" lang="{}"{}>{}</option>',
            code,
            code,
            mark_safe(" selected") if code == access.language else "",
            name,
        )
        for code, name in _language_names(tuple(code for code, _name in settings.LANGUAGES))
    ]
    return mark_safe("".join(options))
