"""Every email template renders in French and English, HTML and text, for a storefront with every
detail and for one with only a name: no missing variable, no untranslated string."""

import copy
from contextlib import contextmanager
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import override_settings
from django.utils.translation import trans_real

from notifications.rendering import available_templates, render_sample
from notifications.samples import SAMPLE_STOREFRONTS

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
# Emails that carry no unsubscribe link in their words, each with the reason.
WITHOUT_UNSUBSCRIBE = {
    # One email a person asked for, to an address on no list yet: there are no alerts to turn
    # off (it is not a member) and it is no order's buyer. Ignoring it is how to refuse it.
    "member_invitation": "an invitation to join a storefront's team",
}


class MissingVariable(str):
    """string_if_invalid that fails the test instead of rendering an empty string."""

    def __contains__(self, item):
        return item == "%s"

    def __mod__(self, name):
        raise AssertionError(f"template variable {name!r} is missing")


@pytest.fixture
def strict_templates():
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = MissingVariable("missing")
    with override_settings(TEMPLATES=templates):
        yield


@contextmanager
def recording_translations():
    """Record every msgid looked up while rendering."""
    looked_up = []
    gettext, ngettext = trans_real.DjangoTranslation.gettext, trans_real.DjangoTranslation.ngettext

    def recording_gettext(self, message):
        looked_up.append(message)
        return gettext(self, message)

    def recording_ngettext(self, singular, plural, number):
        looked_up.append((singular, 0))
        return ngettext(self, singular, plural, number)

    trans_real.DjangoTranslation.gettext = recording_gettext
    trans_real.DjangoTranslation.ngettext = recording_ngettext
    try:
        yield looked_up
    finally:
        trans_real.DjangoTranslation.gettext = gettext
        trans_real.DjangoTranslation.ngettext = ngettext


def test_there_are_templates_to_check():
    assert "test_message" in available_templates()


@pytest.mark.parametrize("storefront_kind", sorted(SAMPLE_STOREFRONTS))
@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("name", sorted(available_templates()))
def test_every_template_renders_completely(strict_templates, name, locale, storefront_kind):
    storefront = SAMPLE_STOREFRONTS[storefront_kind]()
    with recording_translations() as looked_up:
        rendered = render_sample(name, storefront=storefront, locale=locale)
    assert rendered.subject and "\n" not in rendered.subject
    assert storefront.name in rendered.text and storefront.name in rendered.html
    if name in WITHOUT_UNSUBSCRIBE:
        assert rendered.unsubscribe_url not in rendered.text + rendered.html
    else:
        assert rendered.unsubscribe_url in rendered.text
        assert rendered.unsubscribe_url in rendered.html
    assert "{{" not in rendered.text + rendered.html and "{%" not in rendered.text + rendered.html
    assert "&amp;" not in rendered.text and "&#x27;" not in rendered.text + rendered.subject
    if storefront_kind == "full":
        for detail in ("Maison Lune SAS", "732 829 320 00074", "bonjour@maison-lune.example"):
            assert detail in rendered.text and detail in rendered.html
        assert "https://maison-lune.example/retractation" in rendered.html
    if locale == "fr":
        catalog = trans_real.translation("fr")._catalog
        untranslated = [msgid for msgid in looked_up if msgid not in catalog]
        assert untranslated == [], f"no French for {untranslated}"
    assert looked_up, "the template translates nothing"


def test_the_compiled_catalog_matches_its_source():
    # Edited .po without `make messages` would ship stale French.
    po = polib.pofile(str(LOCALE_DIR / "fr/LC_MESSAGES/django.po"))
    mo = polib.mofile(str(LOCALE_DIR / "fr/LC_MESSAGES/django.mo"))
    translated = {entry.msgid: entry.msgstr for entry in po.translated_entries()}
    assert {entry.msgid: entry.msgstr for entry in mo if entry.msgid} == translated
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
