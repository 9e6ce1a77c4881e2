"""The production WSGI application (config.webhook_stack): /webhooks/ runs a short middleware
stack, without session, CSRF, user, messages or locale, and keeps the proxy handling, the
security headers, the host check and the size limit; every other path keeps the whole stack.

These tests call the application as gunicorn does, with a WSGI environ: Django's test client
builds its own handler from settings.MIDDLEWARE, and would not see the routing."""

import json

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware
from django.test import RequestFactory, override_settings

from config import wsgi
from config.webhook_stack import WEBHOOK_PREFIX, ByPath, wsgi_application
from inbound.models import InboundEvent
from tests.test_stripe_webhook import failed_event, sign

PROXY = "10.0.0.7"
CLIENT = "203.0.113.9"


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status_code = int(status.split()[0])
        self.header_list = headers
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body


def call(application, method: str, path: str, body: bytes = b"", **meta) -> Answer:
    """One request through `application`, as gunicorn makes it."""
    environ = RequestFactory().generic(method, path, body, "application/json", **meta).environ
    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=headers)

    # As Django's test client does: the test's transaction holds the connection, which the
    # handler's close_old_connections would close at the start and end of the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return Answer(started["status"], started["headers"], body)


def webhook(application, tenant, event_id: str = "evt_1", **meta) -> Answer:
    body = json.dumps(failed_event(event_id=event_id)).encode()
    return call(
        application,
        "POST",
        f"/webhooks/stripe/{tenant.storefront.public_id}/",
        body,
        HTTP_STRIPE_SIGNATURE=sign(body),
        **meta,
    )


@pytest.fixture
def spies(monkeypatch):
    """The names of the dashboard's middleware that ran, in order."""
    ran = []
    for cls, method in (
        (SessionMiddleware, "process_request"),
        (LocaleMiddleware, "process_request"),
        (CsrfViewMiddleware, "process_view"),
        (AuthenticationMiddleware, "process_request"),
        (MessageMiddleware, "process_request"),
    ):
        original = getattr(cls, method)

        def spy(self, *args, _original=original, _name=cls.__name__, **kwargs):
            ran.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, method, spy)
    return ran


def test_the_served_application_routes_webhooks_to_the_short_stack():
    assert isinstance(wsgi.application, ByPath)
    assert [prefix for prefix, _ in wsgi.application.routes] == [WEBHOOK_PREFIX]


@pytest.mark.django_db
def test_a_webhook_skips_session_csrf_user_messages_and_locale(alpha, spies):
    answer = webhook(wsgi_application(), alpha)
    assert answer.status_code == 200
    assert json.loads(answer.body) == {"received": True, "duplicate": False}
    assert InboundEvent.objects.for_storefront(alpha.storefront).count() == 1
    assert spies == []
    # Nothing a session, the CSRF check or the locale would leave on the answer.
    assert "set-cookie" not in answer.headers
    assert "vary" not in answer.headers
    assert "content-language" not in answer.headers


@pytest.mark.django_db
def test_the_dashboard_keeps_its_whole_stack(spies):
    application = wsgi_application()
    page = call(application, "GET", "/login/")
    assert page.status_code == 200
    assert set(spies) == {
        "SessionMiddleware",
        "LocaleMiddleware",
        "AuthenticationMiddleware",
        "MessageMiddleware",
        "CsrfViewMiddleware",
    }
    assert any(name == "Set-Cookie" and "csrftoken=" in v for name, v in page.header_list)
    assert "Accept-Language" in page.headers["vary"]
    # No test client to exempt it: a form posted without its token is refused.
    assert call(application, "POST", "/login/", b"username=a&password=b").status_code == 403


@pytest.mark.django_db
def test_a_webhook_answer_carries_the_security_headers(alpha):
    answer = webhook(wsgi_application(), alpha)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["cross-origin-opener-policy"] == "same-origin"
    assert answer.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.django_db
def test_a_webhook_believes_the_scheme_only_from_the_proxy(alpha):
    with override_settings(SECURE_SSL_REDIRECT=True, TRUSTED_PROXIES=[PROXY]):
        application = wsgi_application()
        # Straight from a client, "I came over HTTPS" is not believed: redirected to HTTPS.
        claimed = webhook(application, alpha, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_PROTO="https")
        assert claimed.status_code == 301
        assert claimed.headers["location"].startswith("https://")
        # From the proxy, it is: stored, and answered with HSTS.
        proxied = webhook(
            application,
            alpha,
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_FOR=CLIENT,
        )
    assert proxied.status_code == 200
    assert "max-age=" in proxied.headers["strict-transport-security"]
    assert InboundEvent.objects.for_storefront(alpha.storefront).count() == 1


@pytest.mark.django_db
def test_a_webhook_to_an_unknown_host_is_refused(alpha):
    answer = webhook(wsgi_application(), alpha, HTTP_HOST="aftersale.evil.example")
    assert answer.status_code == 400
    assert not InboundEvent.objects.for_storefront(alpha.storefront).exists()


@pytest.mark.django_db
def test_a_webhook_body_over_the_limit_is_refused(alpha):
    body = b"{" + b" " * (1024 * 1024) + b"}"
    answer = call(
        wsgi_application(),
        "POST",
        f"/webhooks/stripe/{alpha.storefront.public_id}/",
        body,
        HTTP_STRIPE_SIGNATURE=sign(body),
    )
    assert answer.status_code == 413
    assert not InboundEvent.objects.for_storefront(alpha.storefront).exists()


@pytest.mark.django_db
def test_a_webhook_path_without_its_slash_is_redirected_as_before(alpha):
    # CommonMiddleware stays: APPEND_SLASH answers as it did with the whole stack.
    path = f"/webhooks/stripe/{alpha.storefront.public_id}"
    answer = call(wsgi_application(), "GET", path)
    assert answer.status_code == 301
    assert answer.headers["location"] == f"{path}/"
