from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalAccessConfig(AppConfig):
    name = "portico.portal_access"
    label = "portal_access"
    verbose_name = _("Portal access")
