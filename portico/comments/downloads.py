"""Serving a comment attachment (portal and back office share this)."""

from django.http import FileResponse

from portico.comments.attachments import INLINE_TYPES
from portico.comments.models import CommentAttachment


def attachment_response(attachment: CommentAttachment, *, inline: bool = False) -> FileResponse:
    """The file under its original name: a download, or shown in the browser
    when ``inline`` and it is an image. The browser may not guess another
    type (nosniff) and the response runs no script (a sandboxing CSP)."""
    show_inline = inline and attachment.content_type in INLINE_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not show_inline,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=0, no-store"
    return response
