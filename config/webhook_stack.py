"""The WSGI application: the project's Django handler, and, for /webhooks/, a second handler
whose middleware stack keeps only what a webhook needs.

A webhook is a machine posting a signed body: no cookie, no session, no user, no form, no
page. Most of settings.MIDDLEWARE serves the dashboard's people and would only cost a webhook
time. Middleware run before the URL is resolved, so a view decorator cannot skip them; Django
builds one chain per handler from settings.MIDDLEWARE, so the webhooks get a handler of their
own, chosen by path before Django sees the request.

Kept, in settings order: the proxy handling (config.proxy: the client's address and scheme),
SecurityMiddleware (HTTPS redirect, HSTS, nosniff, referrer and opener policies), a
Content-Security-Policy, CommonMiddleware (ALLOWED_HOSTS, the slash redirect) and
X-Frame-Options. The size limits are the view's (inbound.edge.read_body) and
DATA_UPLOAD_MAX_MEMORY_SIZE, untouched. A middleware added to settings later runs on webhooks
too, unless it is named below.
"""

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

WEBHOOK_PREFIX = "/webhooks/"

# What a webhook skips of settings.MIDDLEWARE, and why.
NOT_FOR_WEBHOOKS = {
    # Serves files under STATIC_URL only.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # No cookie comes with a webhook: the signature, checked by the view, is the credential.
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Every webhook view is csrf_exempt: there is no form and no session to forge.
    "django.middleware.csrf.CsrfViewMiddleware",
    # The answers are JSON for a machine, never translated.
    "django.middleware.locale.LocaleMiddleware",
    # Counts failed logins only.
    "axes.middleware.AxesMiddleware",
}


# What a webhook gets in place of a middleware of settings.MIDDLEWARE.
REPLACED_FOR_WEBHOOKS = {
    "csp.middleware.CSPMiddleware": "config.webhook_stack.NothingToRenderPolicy",
}


class NothingToRenderPolicy:
    """The Content-Security-Policy of an answer that no browser should render: nothing may load
    and nothing may frame it, the policy OWASP's REST Security Cheat Sheet gives APIs
    ("Security headers"). django-csp builds the dashboard's policy on every response (twice:
    enforced and report-only), about half of what the middleware cost a webhook in a profile;
    this one is a constant."""

    POLICY = "default-src 'none'; frame-ancestors 'none'"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response


def webhook_middleware() -> list[str]:
    """settings.MIDDLEWARE without what a webhook does not need, in the same order."""
    return [
        REPLACED_FOR_WEBHOOKS.get(path, path)
        for path in settings.MIDDLEWARE
        if path not in NOT_FOR_WEBHOOKS
    ]


def handler_with(middleware: list[str]) -> WSGIHandler:
    """A Django WSGI handler whose chain is `middleware` rather than settings.MIDDLEWARE.

    BaseHandler.load_middleware reads settings.MIDDLEWARE once, when the handler is made, and
    the handler keeps the chain it built: the setting is given the list for that moment only
    (at start-up, before any request)."""
    full = settings.MIDDLEWARE
    settings.MIDDLEWARE = middleware
    try:
        return WSGIHandler()
    finally:
        settings.MIDDLEWARE = full


class ByPath:
    """A WSGI application: a request whose path starts with one of `routes`' prefixes goes to
    that prefix's application, any other to `default`."""

    def __init__(self, default, routes: dict):
        self.default = default
        self.routes = tuple(routes.items())

    def __call__(self, environ, start_response):
        # PATH_INFO, as Django's own resolver reads it (below any SCRIPT_NAME).
        path = environ.get("PATH_INFO", "")
        for prefix, application in self.routes:
            if path.startswith(prefix):
                return application(environ, start_response)
        return self.default(environ, start_response)


def wsgi_application() -> ByPath:
    """What config/wsgi.py serves: the full stack, and the short one for /webhooks/."""
    default = get_wsgi_application()  # django.setup() first
    return ByPath(default, {WEBHOOK_PREFIX: handler_with(webhook_middleware())})
