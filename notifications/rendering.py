"""Email templates: finding them, rendering them in a language, and the unsubscribe link.

A template is a folder `emails/<name>/` in any app's `templates/` (or the project's) holding
`subject.txt`, `body.txt` and `body.html`, which extend `emails/_base.txt` and `_base.html`
so every message carries the storefront's brand and trust details. `sample.json` beside them
gives, for samples and tests (`make samples`), the audience ("buyer" or "merchant") and a
context as a caller would pass it.
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.template import engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

PARTS = ("subject.txt", "body.txt", "body.html")
UNSUBSCRIBE_SALT = "notifications.unsubscribe"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    unsubscribe_url: str


def template_dirs() -> list[Path]:
    """Every folder the Django template engine searches, project first."""
    return [Path(folder) for folder in engines["django"].template_dirs]


@cache
def available_templates() -> dict[str, Path]:
    """Template name → its folder, for every `emails/<name>/` that has all three parts.
    Read once per process: templates ship with the code (as Django's cached loader assumes)."""
    found = {}
    for folder in template_dirs():
        for subject in sorted(folder.glob("emails/*/subject.txt")):
            name = subject.parent.name
            if all((subject.parent / part).exists() for part in PARTS):
                found.setdefault(name, subject.parent)
    return found


def sample(name: str) -> dict:
    """{"audience": …, "context": {…}} for a template, from its sample.json."""
    path = available_templates()[name] / "sample.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    return {"audience": data.get("audience", "buyer"), "context": data.get("context", {})}


def render_sample(name: str, *, storefront, locale: str) -> Rendered:
    """A template rendered with its sample.json, for `make samples` and the template tests."""
    example = sample(name)
    return render(
        template=name,
        storefront=storefront,
        context=example["context"],
        locale=locale,
        recipient="camille@example.com",
        audience=example["audience"],
    )


def unsubscribe_token(*, storefront_id: int, email: str, audience: str, locale: str) -> str:
    # Signed, not encrypted: it names only what the link's owner already knows. It never
    # expires, as an unsubscribe link must work however old the email is.
    payload = {"s": storefront_id, "e": email, "a": audience, "l": locale}
    return signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> dict:
    """The token's payload; raises signing.BadSignature when it was not made by us."""
    return signing.loads(token, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(*, storefront_id: int, email: str, audience: str, locale: str) -> str:
    token = unsubscribe_token(
        storefront_id=storefront_id, email=email, audience=audience, locale=locale
    )
    return settings.SITE_URL + reverse("notifications:unsubscribe", args=[token])


def render(
    *, template: str, storefront, context: dict, locale: str, recipient: str, audience: str
) -> Rendered:
    """Render a template's three parts in `locale` for one recipient."""
    link = unsubscribe_url(
        storefront_id=storefront.pk, email=recipient, audience=audience, locale=locale
    )
    full_context = {
        **context,
        # Set last so that a caller's context cannot replace them.
        "storefront": storefront,
        "recipient": recipient,
        "audience": audience,
        "unsubscribe_url": link,
    }
    with translation.override(locale):
        subject, text, html = (
            render_to_string(f"emails/{template}/{part}", full_context) for part in PARTS
        )
    lines = "\n".join(line.rstrip() for line in text.splitlines())
    return Rendered(
        subject=re.sub(r"\s+", " ", subject).strip(),
        text=re.sub(r"\n{3,}", "\n\n", lines).strip() + "\n",
        html=html,
        unsubscribe_url=link,
    )
