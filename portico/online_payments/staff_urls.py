"""Settings → Online payments, at /app/settings/online-payments/."""

from django.urls import path

from portico.online_payments import views

app_name = "online_payments"

urlpatterns = [
    path("", views.online_payment_settings_page, name="settings"),
]
