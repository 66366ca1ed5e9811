from django.urls import include, path

urlpatterns = [
    path("", include("portico.core.urls")),
    path("", include("portico.accounts.urls")),
    path("app/customers/", include("portico.customers.urls")),
    path("app/settings/emails/", include("portico.mail.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
