from django.urls import path

from portico.customers import views
from portico.payments import views as payment_views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("bulk/", views.customer_bulk_action, name="bulk"),
    path("lookup/", views.customer_lookup, name="lookup"),
    path("contact-choices/", views.customer_contact_choices, name="contact_choices"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/active/", views.customer_set_active, name="set_active"),
    path("<int:customer_id>/delete/", views.customer_delete, name="delete"),
    path("<int:customer_id>/statement/", payment_views.customer_statement, name="statement"),
    path(
        "<int:customer_id>/statement/pdf/",
        payment_views.customer_statement_pdf,
        name="statement_pdf",
    ),
]
