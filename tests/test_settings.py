import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

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


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_and_a_proxy_header_is_honoured():
    with override_settings(SECURE_SSL_REDIRECT=True):
        client = Client()
        response = client.get("/login/")
        assert response.status_code == 301
        assert response.url == "https://testserver/login/"
        assert client.get("/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
        # Load balancers probe health over plain HTTP.
        assert client.get("/healthz").status_code == 200


def test_production_defaults_are_safe(settings):
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SECURE_HSTS_SECONDS >= 31536000
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
