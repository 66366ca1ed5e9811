"""``{% contact_portal_status contact %}``: a contact's portal status on the
customer overview (the contact read with ``select_related("portal_access")``)."""

from django import template

from portico.portal_access.staff_selectors import ContactPortalStatus

register = template.Library()


@register.inclusion_tag("portal_access/partials/_contact_portal_status.html", takes_context=True)
def contact_portal_status(context, contact):
    return {
        "row": ContactPortalStatus.of(contact),
        "csrf_token": context.get("csrf_token"),
    }
