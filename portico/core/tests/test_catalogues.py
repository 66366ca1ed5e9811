"""The translation catalogues: complete, compiled, and in step with the code.

Every message of the code must be translated (not empty, not fuzzy) in each
of the twelve portal languages — that covers the portal, the customers'
e-mails and the PDFs, and the whole staff side in Japanese (and in every
other language too). The compiled ``.mo`` must hold exactly what its ``.po``
says, so a catalogue edited but not compiled fails here.
"""

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.translation import to_locale

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [code for code, _name in settings.LANGUAGES]
# makemessages' walk, as `make messages` runs it.
IGNORED = [".venv", "bench", "staticfiles", "var", "test-artifacts", "node_modules"]


def _catalogue(code: str, suffix: str = "po") -> Path:
    return LOCALE_DIR / to_locale(code) / "LC_MESSAGES" / f"django.{suffix}"


def _key(entry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def _where(entries) -> str:
    return "\n".join(
        f"  {entry.msgid[:70]!r} ({entry.occurrences[0][0] if entry.occurrences else '?'})"
        for entry in entries[:15]
    )


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(code):
    catalogue = polib.pofile(str(_catalogue(code)))
    entries = [entry for entry in catalogue if not entry.obsolete]
    untranslated = [entry for entry in entries if not entry.translated()]
    fuzzy = [entry for entry in entries if "fuzzy" in entry.flags]

    assert len(entries) > 1000
    assert not untranslated, f"{len(untranslated)} untranslated in {code}:\n{_where(untranslated)}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {code}:\n{_where(fuzzy)}"


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_compiled_catalogue_is_the_source_compiled(code):
    source = polib.pofile(str(_catalogue(code)))
    compiled = polib.mofile(str(_catalogue(code, "mo")))

    def messages(catalogue):
        # A .mo holds only translated messages; compare those of the .po.
        return {
            _key(entry): (entry.msgstr, tuple(sorted(entry.msgstr_plural.items())))
            for entry in catalogue
            if entry.msgid
            and not getattr(entry, "obsolete", False)
            and (entry.msgstr or any(entry.msgstr_plural.values()))
            and "fuzzy" not in getattr(entry, "flags", ())
        }

    stale = set(messages(source).items()) ^ set(messages(compiled).items())
    assert not stale, (
        f"locale/{to_locale(code)}: django.mo differs from django.po in {len(stale)} messages; "
        "run `make messages`"
    )


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed"
)
def test_the_catalogues_hold_every_message_of_the_code(tmp_path, settings):
    """makemessages run afresh (into a copy) finds no message missing from the catalogues."""
    copy = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR / "en", copy / "en")
    settings.LOCALE_PATHS = [copy]
    call_command(
        "makemessages", locale=["en"], ignore_patterns=IGNORED, verbosity=0, no_obsolete=True
    )

    fresh = {_key(entry) for entry in polib.pofile(str(copy / "en/LC_MESSAGES/django.po"))}
    committed = {_key(entry) for entry in polib.pofile(str(_catalogue("en")))}

    missing = sorted(fresh - committed)
    assert not missing, f"{len(missing)} messages not in the catalogues (run `make messages`): " + (
        ", ".join(repr(msgid[:60]) for _ctx, msgid in missing[:15])
    )
