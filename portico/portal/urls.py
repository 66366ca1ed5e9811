"""The customer portal: /portal/<portal-name>/…"""

from django.urls import path

from portico.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("accept/<str:token>/", views.accept_invitation, name="accept"),
]
