"""Staff inviting, under /app/settings/portal/customers/ (namespace portal_access)."""

from django.urls import path

from portico.portal_access import staff_views

urlpatterns = [
    path("<int:customer_id>/access/", staff_views.customer_access, name="customer_access"),
    path(
        "<int:customer_id>/contacts/<int:contact_id>/reinvite/",
        staff_views.contact_reinvite,
        name="contact_reinvite",
    ),
]
