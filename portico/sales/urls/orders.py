from django.urls import path

from portico.sales.views import orders as views

app_name = "sales_orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("new/", views.order_create, name="create"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/edit/", views.order_edit, name="edit"),
    path("<int:pk>/confirm/", views.order_confirm, name="confirm"),
    path("<int:pk>/fulfilment/", views.order_fulfilment, name="fulfilment"),
    path("<int:pk>/convert/", views.order_convert_to_invoice, name="convert_to_invoice"),
    path("<int:pk>/void/", views.order_void, name="void"),
    path("<int:pk>/pdf/", views.order_pdf, name="pdf"),
]
