"""``{% notification_poll_seconds as seconds %}``: how often the staff bell polls."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def notification_poll_seconds() -> int:
    """``settings.NOTIFICATION_POLL_SECONDS``, read when the bell renders (tests lower it)."""
    return max(1, int(settings.NOTIFICATION_POLL_SECONDS))
