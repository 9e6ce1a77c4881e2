import socket

import pytest
from django.db import connection

from config.celery import app as celery_app


def closed_port() -> int:
    # A port nothing listens on: bind, note it, close.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_healthz_is_200_when_database_and_broker_are_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "broker": "up"}
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.worker
@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{closed_port()}/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "up", "broker": "down"}


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    # A real connection to a port where no PostgreSQL listens.
    connection.close()
    connection.close_pool()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(closed_port()))
    if "pool" in connection.settings_dict["OPTIONS"]:
        # Fail fast: the pool otherwise waits its full timeout for a connection.
        monkeypatch.setitem(connection.settings_dict["OPTIONS"]["pool"], "timeout", 0.5)
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.close_pool()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down", "broker": "up"}


def test_healthz_answers_get_only(client):
    assert client.post("/healthz").status_code == 405
