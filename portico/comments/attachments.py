"""What a comment attachment may be: PDF or an image, recognised by its content.

The type comes from the file's first bytes (its "magic number"), never from
the name or the browser's Content-Type alone: a web page renamed ``x.pdf``
is refused, and so is a real PDF renamed ``x.exe``.
"""

import os
import re
import unicodedata

# Content type → the extensions a file of that type may carry.
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
}
ALLOWED_EXTENSIONS = tuple(sorted({ext for exts in ALLOWED_TYPES.values() for ext in exts}))
# Types a browser may show inline (the rest always download).
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# How many bytes sniff_content_type needs.
SNIFF_BYTES = 16

ORIGINAL_NAME_MAX = 200


def sniff_content_type(head: bytes) -> str | None:
    """The allowed content type whose signature ``head`` starts with, else None."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def extension_of(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def clean_original_name(name: str) -> str:
    """The uploader's file name, safe to show and to put in Content-Disposition:
    no folders, no control characters, at most ORIGINAL_NAME_MAX characters
    (the extension kept)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "attachment"
    if len(name) > ORIGINAL_NAME_MAX:
        stem, extension = os.path.splitext(name)
        extension = extension[:20]
        name = stem[: ORIGINAL_NAME_MAX - len(extension)] + extension
    return name
