"""Providers' callbacks: /webhooks/… (no session, no CSRF token; each verifies its signature)."""

from django.urls import path

from portico.online_payments import webhooks

# Not namespaced: reverse("stripe_webhook", kwargs={"organization_id": …}).
urlpatterns = [
    path("stripe/<int:organization_id>/", webhooks.stripe_webhook, name="stripe_webhook"),
]
