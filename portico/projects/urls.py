from django.urls import path

from portico.projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_create, name="create"),
    path("customer/<int:customer_id>/", views.customer_projects, name="customer_projects"),
    path("<int:project_id>/", views.project_detail, name="detail"),
    path("<int:project_id>/edit/", views.project_edit, name="edit"),
    path("<int:project_id>/delete/", views.project_delete, name="delete"),
    path("<int:project_id>/invoice/", views.project_invoice, name="invoice"),
    path("<int:project_id>/time/new/", views.time_entry_create, name="time_create"),
    path("<int:project_id>/time/bulk/", views.time_entries_bulk, name="time_bulk"),
    path("<int:project_id>/time/<int:entry_id>/edit/", views.time_entry_edit, name="time_edit"),
    path(
        "<int:project_id>/time/<int:entry_id>/delete/",
        views.time_entry_delete,
        name="time_delete",
    ),
]
