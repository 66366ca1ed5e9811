from django.urls import path

from portico.sales.views import invoices as views

app_name = "invoices"

urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("new/", views.invoice_create, name="create"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/edit/", views.invoice_edit, name="edit"),
    path("<int:pk>/send/", views.invoice_mark_sent, name="mark_sent"),
    path("<int:pk>/void/", views.invoice_void, name="void"),
    path("<int:pk>/pdf/", views.invoice_pdf, name="pdf"),
]
