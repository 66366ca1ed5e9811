from django.urls import path

from portico.catalog import views

app_name = "catalog"

urlpatterns = [
    path("items/", views.item_list, name="item_list"),
    path("items/new/", views.item_create, name="item_create"),
    path("items/<int:item_id>/", views.item_detail, name="item_detail"),
    path("items/<int:item_id>/edit/", views.item_edit, name="item_edit"),
    path("items/<int:item_id>/active/", views.item_set_active, name="item_set_active"),
    path("items/<int:item_id>/delete/", views.item_delete, name="item_delete"),
    path("settings/taxes/", views.tax_list, name="tax_list"),
    path("settings/taxes/new/", views.tax_create, name="tax_create"),
    path("settings/taxes/<int:tax_id>/edit/", views.tax_edit, name="tax_edit"),
    path("settings/taxes/<int:tax_id>/active/", views.tax_set_active, name="tax_set_active"),
    path("settings/numbering/", views.numbering_settings_page, name="numbering"),
]
