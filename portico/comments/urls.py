"""Back office: /app/comments/… (posting on a document, downloading files)."""

from django.urls import path

from portico.comments import views

app_name = "comments"

urlpatterns = [
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    # kind: quote, sales_order, invoice or project (portico.comments.documents.KINDS)
    path("<slug:kind>/<int:pk>/", views.comment_post, name="post"),
]
