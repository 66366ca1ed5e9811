from django.urls import include, path

urlpatterns = [
    path("", include("portico.core.urls")),
    path("", include("portico.accounts.urls")),
    path("app/customers/", include("portico.customers.urls")),
    path("app/", include("portico.catalog.urls")),  # items/, settings/taxes/, settings/numbering/
    path("app/quotes/", include("portico.sales.urls.quotes")),
    path("app/sales-orders/", include("portico.sales.urls.orders")),
    path("app/invoices/", include("portico.sales.urls.invoices")),
    path("app/credit-notes/", include("portico.sales.urls.credit_notes")),
    path("app/payments/", include("portico.payments.urls")),
    path("app/projects/", include("portico.projects.urls")),
    path("app/comments/", include("portico.comments.urls")),
    path("app/notifications/", include("portico.activity.urls")),
    path("app/settings/emails/", include("portico.mail.urls")),
    path("app/settings/portal/", include("portico.portal_access.urls")),
    path("app/settings/online-payments/", include("portico.online_payments.staff_urls")),
    path("portal/<slug:portal_name>/", include("portico.portal.urls")),
    path("webhooks/", include("portico.online_payments.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
