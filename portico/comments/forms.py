"""The comment forms: text and files here; the service checks the rest
(sizes, types by content, the rate limit) and raises typed errors."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from portico.comments.attachments import ALLOWED_EXTENSIONS, ALLOWED_TYPES
from portico.comments.services import ATTACHMENTS_MAX, BODY_MAX_LENGTH


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file input that takes several files; cleans to a list (maybe empty)."""

    def __init__(self, *args, **kwargs):
        accept = ",".join((*ALLOWED_EXTENSIONS, *ALLOWED_TYPES))
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        if isinstance(data, (list, tuple)):
            files = [clean_one(upload, initial) for upload in data]
        else:
            files = [clean_one(data, initial)]
        return [upload for upload in files if upload]


def _files_help() -> str:
    return _("PDF or images (PNG, JPEG, GIF, WebP): up to %(count)s files of %(max)s each.") % {
        "count": ATTACHMENTS_MAX,
        "max": filesizeformat(settings.COMMENT_ATTACHMENT_MAX_BYTES),
    }


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write a comment.")},
    )
    files = MultipleFileField(
        label=_("Attach files"), required=False, help_text=lazy(_files_help, str)()
    )

    def __init__(self, *args, **kwargs):
        # Unique ids on a document page that holds other forms.
        kwargs.setdefault("auto_id", "comment-%s")
        super().__init__(*args, **kwargs)


class StaffCommentForm(CommentForm):
    internal = forms.BooleanField(
        label=_("Internal note: not shown to the customer"), required=False
    )
