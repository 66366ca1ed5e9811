from django.urls import path

from portico.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.payment_list, name="list"),
    path("new/", views.payment_create, name="create"),
    path("open-invoices/", views.payment_open_invoices, name="open_invoices"),
    path("<int:pk>/", views.payment_detail, name="detail"),
    path("<int:pk>/apply-credit/", views.payment_apply_credit, name="apply_credit"),
    path("<int:pk>/refund/", views.payment_refund, name="refund"),
    path("<int:pk>/delete/", views.payment_delete, name="delete"),
    path("<int:pk>/pdf/", views.payment_pdf, name="pdf"),
]
