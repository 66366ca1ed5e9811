"""Enable portal jobs, under /app/settings/portal/bulk/ (namespace portal_access)."""

from django.urls import path

from portico.portal_access import bulk_views

urlpatterns = [
    path("<int:bulk_invite_id>/", bulk_views.bulk_invite_progress, name="bulk_progress"),
    path("<int:bulk_invite_id>/resume/", bulk_views.bulk_invite_resume, name="bulk_resume"),
]
