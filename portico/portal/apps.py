from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portico.portal"
    label = "portal"
    verbose_name = _("Customer portal")

    def ready(self) -> None:
        from portico.portal import versions

        # Once per migrate (sender: this app), around all apps' migrations.
        pre_migrate.connect(versions._before_migrate, sender=self)
        post_migrate.connect(versions._after_migrate, sender=self)
