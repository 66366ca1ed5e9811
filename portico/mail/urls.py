from django.urls import path

from portico.mail import views

app_name = "mail"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<int:email_id>/", views.outbox_detail, name="detail"),
    path("<int:email_id>/html/", views.outbox_html, name="html"),
    path("<int:email_id>/retry/", views.outbox_retry, name="retry"),
]
