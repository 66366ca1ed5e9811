from django.urls import path

from portico.sales.views import quotes as views

app_name = "quotes"

urlpatterns = [
    path("", views.quote_list, name="list"),
    path("new/", views.quote_create, name="create"),
    path("<int:pk>/", views.quote_detail, name="detail"),
    path("<int:pk>/edit/", views.quote_edit, name="edit"),
    path("<int:pk>/send/", views.quote_mark_sent, name="mark_sent"),
    path("<int:pk>/accept/", views.quote_mark_accepted, name="mark_accepted"),
    path("<int:pk>/decline/", views.quote_mark_declined, name="mark_declined"),
    path(
        "<int:pk>/convert/sales-order/",
        views.quote_convert_to_sales_order,
        name="convert_to_sales_order",
    ),
    path("<int:pk>/convert/invoice/", views.quote_convert_to_invoice, name="convert_to_invoice"),
    path("<int:pk>/delete/", views.quote_delete, name="delete"),
    path("<int:pk>/pdf/", views.quote_pdf, name="pdf"),
    path("<int:pk>/certificate/", views.quote_certificate, name="certificate"),
]
