"""Each member reads the app in the language they pick (else the organisation's)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_member_picks_their_language_and_the_app_follows(client, membership):
    client.force_login(membership.user)

    response = client.post(
        reverse("accounts:language"), {"language": "ja", "next": reverse("customers:list")}
    )

    assert response.status_code == 302 and response["Location"] == reverse("customers:list")
    membership.user.refresh_from_db()
    assert membership.user.language == "ja"
    page = client.get(reverse("customers:list")).content.decode()
    assert 'lang="ja"' in page
    assert "顧客" in page


def test_an_unknown_language_or_a_foreign_next_changes_nothing(client, membership):
    client.force_login(membership.user)
    before = membership.user.language

    response = client.post(
        reverse("accounts:language"), {"language": "xx", "next": "https://evil.example/"}
    )

    assert response.status_code == 302 and response["Location"] == reverse("core:home")
    membership.user.refresh_from_db()
    assert membership.user.language == before
