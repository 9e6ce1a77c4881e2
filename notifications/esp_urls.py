"""The ESPs' tracking webhooks, /webhooks/email/<esp>/tracking/: anymail's views, mounted only
while a webhook secret is configured.

anymail accepts any request when ANYMAIL_WEBHOOK_SECRET is unset (it only warns), and these
endpoints can suppress a buyer for good or switch a member's alerts off. So with no secret
they answer 404, exactly as if they were not mounted, and a system check says so at start-up
(notifications.checks); with one, anymail's basic-auth check refuses any request without it
(400). The secret is read on every request, as anymail reads it, so setting it takes effect
without a new URL configuration. anymail's inbound-mail endpoints are not mounted at all:
Aftersale receives no mail.
"""

from functools import wraps

from anymail import urls as anymail_urls
from django.http import Http404
from django.urls import URLPattern

from notifications.checks import webhook_secrets

app_name = "anymail"


def _needs_webhook_secret(view):
    @wraps(view)  # keeps csrf_exempt and the other flags anymail's view carries
    def guarded(request, *args, **kwargs):
        if not webhook_secrets():
            raise Http404("ESP webhooks are off: no webhook secret is configured.")
        return view(request, *args, **kwargs)

    return guarded


urlpatterns = [
    URLPattern(pattern.pattern, _needs_webhook_secret(pattern.callback), name=pattern.name)
    for pattern in anymail_urls.urlpatterns
    if pattern.name.endswith("_tracking_webhook")
]
