"""``{% document_portal_activity document %}``: a document's portal activity on its staff page."""

from django import template

from portico.activity.selectors import activity_of_document

register = template.Library()


@register.inclusion_tag("activity/partials/_document_activity.html")
def document_portal_activity(document):
    """The events customers caused on ``document``, newest first (one query)."""
    return {"events": activity_of_document(document=document)}
