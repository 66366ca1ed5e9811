"""Fixtures of the comment tests: files in a temporary MEDIA_ROOT, a contact
with an active portal access, documents of their customer, sample uploads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory
from portico.sales.models import InvoiceStatus
from portico.sales.tests.factories import InvoiceFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Attachments go to a real file system storage in a temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": settings.MEDIA_ROOT},
        },
    }
    return tmp_path / "media"


@pytest.fixture
def access(db):
    """A contact with an active portal access (organisation default settings)."""
    return PortalAccessFactory(active=True)


@pytest.fixture
def organization(access):
    return access.organization


@pytest.fixture
def portal_settings(organization):
    return PortalSettingsFactory(organization=organization)


@pytest.fixture
def owner(organization):
    return MembershipFactory(organization=organization, role=Role.OWNER)


@pytest.fixture
def staff_client(client, owner):
    client.force_login(owner.user)
    return client


@pytest.fixture
def invoice(access):
    return InvoiceFactory(customer=access.customer, status=InvoiceStatus.SENT)


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)
