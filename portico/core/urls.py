from django.urls import path

from portico.core import views

app_name = "core"

urlpatterns = [
    path("", views.root, name="root"),
    path("app/", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
]
