"""The signed recovery link in buyer emails: /r/<token>/ records the click, then redirects."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "payments.recovery-link"


def retry_url(lost_sale, *, step: int) -> str:
    token = signing.dumps({"s": lost_sale.storefront_id, "l": lost_sale.pk, "n": step}, salt=SALT)
    return settings.SITE_URL + reverse("payments:retry", args=[token])


def read(token: str) -> dict:
    """The token's payload; raises signing.BadSignature when it was not made by us."""
    return signing.loads(token, salt=SALT)
