"""Start-up checks of the email settings."""

from anymail.utils import get_anymail_setting
from django.conf import settings
from django.core import checks

from notifications.models import Audience


def webhook_secrets() -> list[str]:
    """The basic-auth credentials ("user:password") anymail's tracking webhooks require, read
    by anymail's own reader (as its basic-auth check does): one string, or a list of them during
    a rotation."""
    configured = get_anymail_setting("webhook_secret", default=[])
    if isinstance(configured, str):
        configured = [configured]
    return [secret for secret in configured if secret]


@checks.register(checks.Tags.security)
def check_esp_webhook_secret(app_configs=None, **kwargs):
    backend = getattr(settings, "EMAIL_BACKEND", "")
    secrets = webhook_secrets()
    if not secrets:
        if not backend.startswith("anymail."):
            return []  # Django's own backends have no tracking webhooks to miss
        return [
            checks.Warning(
                "ANYMAIL_WEBHOOK_SECRET is not set: the email provider's tracking webhooks "
                "(/webhooks/email/<esp>/tracking/) answer 404, so bounces, complaints and "
                "unsubscribes are not recorded.",
                hint="Set ANYMAIL_WEBHOOK_SECRET to 'user:long-random-password' and give the "
                "provider https://user:long-random-password@<host>/webhooks/email/<esp>/tracking/.",
                id="notifications.W001",
            )
        ]
    if any(":" not in secret for secret in secrets):
        return [
            checks.Error(
                "ANYMAIL_WEBHOOK_SECRET must be 'user:password' (HTTP basic auth).",
                id="notifications.E001",
            )
        ]
    return []


@checks.register()
def check_resend_in_doubt(app_configs=None, **kwargs):
    unknown = set(settings.EMAIL_RESEND_IN_DOUBT) - set(Audience.values)
    if not unknown:
        return []
    return [
        checks.Error(
            f"EMAIL_RESEND_IN_DOUBT names no audience {', '.join(sorted(unknown))}.",
            hint=f"A comma-separated list of {' and '.join(Audience.values)}, or empty.",
            id="notifications.E002",
        )
    ]
