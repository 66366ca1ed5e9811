from django.urls import include, path

from portico.portal_access import settings_views

app_name = "portal_access"

urlpatterns: list = [
    # Settings → Customer portal (P1)
    path("", settings_views.portal_settings_page, name="settings"),
    path("name/", settings_views.portal_name_change, name="portal_name"),
    path("banner-preview/", settings_views.banner_preview, name="banner_preview"),
    # Staff inviting: Configure portal access, Reinvite (P2)
    path("customers/", include("portico.portal_access.staff_urls")),
    # Customers → More → Enable portal: the job's progress (P4)
    path("bulk/", include("portico.portal_access.bulk_urls")),
]
