from django.urls import path

from portico.sales.views import credit_notes as views

app_name = "credit_notes"

urlpatterns = [
    path("", views.credit_note_list, name="list"),
    path("new/", views.credit_note_create, name="create"),
    path("invoice-choices/", views.credit_note_invoice_choices, name="invoice_choices"),
    path("<int:pk>/", views.credit_note_detail, name="detail"),
    path("<int:pk>/edit/", views.credit_note_edit, name="edit"),
    path("<int:pk>/open/", views.credit_note_open, name="open"),
    path("<int:pk>/apply/", views.credit_note_apply, name="apply"),
    path(
        "<int:pk>/applications/<int:application_id>/remove/",
        views.credit_application_remove,
        name="remove_application",
    ),
    path("<int:pk>/void/", views.credit_note_void, name="void"),
    path("<int:pk>/pdf/", views.credit_note_pdf, name="pdf"),
]
