import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.test import Client, RequestFactory, override_settings

from config.proxy import TrustedProxyMiddleware

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def import_settings(**env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DEBUG"}
    }
    environment.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import config.settings"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_missing_secret_key_stops_start_up_when_debug_is_off():
    result = import_settings(FIELD_ENCRYPTION_KEY="OurUkHjKtvBxCuc1o2f7r8A9zZ0bOeTiDwDdRNz1oX4=")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_missing_encryption_key_stops_start_up_when_debug_is_off():
    result = import_settings(SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set when DEBUG is off" in result.stderr


def test_a_malformed_encryption_key_stops_start_up():
    result = import_settings(SECRET_KEY="x" * 50, FIELD_ENCRYPTION_KEY="too-short")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be url-safe base64 of 32 bytes" in result.stderr
    assert "too-short" not in result.stderr


def test_a_malformed_trusted_proxy_stops_start_up():
    result = import_settings(DEBUG="true", TRUSTED_PROXIES="172.30.0.0/24,proxy.local")
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr and "proxy.local" in result.stderr


PROXY = "172.30.0.2"  # the reverse proxy's address on its network
CLIENT = "203.0.113.9"


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_and_the_proxys_header_is_honoured():
    with override_settings(SECURE_SSL_REDIRECT=True, TRUSTED_PROXIES=["172.30.0.0/24"]):
        client = Client()
        response = client.get("/login/")
        assert response.status_code == 301
        assert response.url == "https://testserver/login/"
        through_proxy = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_PROTO": "https"}
        assert client.get("/login/", **through_proxy).status_code == 200
        # Load balancers probe health over plain HTTP.
        assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_a_client_that_is_not_the_proxy_cannot_claim_https():
    with override_settings(SECURE_SSL_REDIRECT=True, TRUSTED_PROXIES=["172.30.0.0/24"]):
        response = Client().get("/login/", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 301
    # Nor with no proxy configured at all (the default).
    with override_settings(SECURE_SSL_REDIRECT=True):
        response = Client().get("/login/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 301


def _seen_address(**meta) -> str:
    request = RequestFactory().get("/", **meta)
    TrustedProxyMiddleware(lambda request: None)(request)
    return request.META["REMOTE_ADDR"]


def test_the_client_address_comes_from_the_proxy_only(settings):
    settings.TRUSTED_PROXIES = ["172.30.0.0/24", "::1"]
    # From the proxy: the address it appended, not the ones the client wrote before it.
    forwarded = "10.0.0.1, 198.51.100.7, " + CLIENT
    assert _seen_address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded) == CLIENT
    assert _seen_address(REMOTE_ADDR="::1", HTTP_X_FORWARDED_FOR=CLIENT) == CLIENT
    # From anyone else the header is ignored, and a garbled one changes nothing.
    assert _seen_address(REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="10.9.9.9") == CLIENT
    assert _seen_address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not an address") == PROXY
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    assert _seen_address(REMOTE_ADDR=PROXY, HTTP_X_REAL_IP=CLIENT) == CLIENT
    assert _seen_address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT) == PROXY


def test_production_defaults_are_safe(settings):
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SECURE_HSTS_SECONDS >= 31536000
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_compose_publishes_only_the_proxy_and_trusts_only_its_network():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {name for name, service in services.items() if service.get("ports")} == {"proxy"}
    assert "proxy" in services["web"]["networks"] and services["proxy"]["networks"] == ["proxy"]
    subnet = compose["networks"]["proxy"]["ipam"]["config"][0]["subnet"]
    assert services["web"]["environment"]["TRUSTED_PROXIES"] == subnet
    assert "reverse_proxy web:8000" in (PROJECT_ROOT / "Caddyfile").read_text()
