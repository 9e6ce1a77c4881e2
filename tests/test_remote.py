"""inbound.remote: calls to a provider's API, mocked at the HTTP boundary (requests' transport),
so urllib3's retries and requests' timeouts run for real."""

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from inbound import remote
from inbound.errors import is_permanent

URL = "https://api.example.test/v2/payments/tr_1"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    # urllib3 sleeps between retries; the retries' count and order are what is tested here.
    monkeypatch.setattr("urllib3.util.retry.Retry.sleep", lambda self, response=None: None)


@responses.activate(registry=OrderedRegistry)
def test_a_5xx_then_an_answer_is_retried_and_gives_the_answer():
    responses.get(URL, status=503)
    responses.get(URL, status=502)
    responses.get(URL, json={"id": "tr_1", "status": "paid"})

    assert remote.call("Mollie", "GET", URL) == {"id": "tr_1", "status": "paid"}
    assert len(responses.calls) == 3


@responses.activate(registry=OrderedRegistry)
def test_429_is_retried_too():
    responses.get(URL, status=429, headers={"Retry-After": "1"})
    responses.get(URL, json={"ok": True})

    assert remote.call("Mollie", "GET", URL) == {"ok": True}
    assert len(responses.calls) == 2


@responses.activate
def test_a_lasting_outage_is_unavailable_a_temporary_error():
    responses.get(URL, status=503)

    with pytest.raises(remote.Unavailable) as raised:
        remote.call("Mollie", "GET", URL)

    assert len(responses.calls) == 1 + remote.RETRIES
    assert str(raised.value) == "Mollie GET /v2/payments/tr_1: HTTP 503 after 3 retries"
    assert not is_permanent(raised.value)


@responses.activate
def test_a_network_error_is_unavailable_and_names_no_detail():
    responses.get(URL, body=requests.ConnectTimeout("secret detail ?key=abc"))

    with pytest.raises(remote.Unavailable) as raised:
        remote.call("Mollie", "GET", URL)

    assert str(raised.value) == "Mollie GET /v2/payments/tr_1: ConnectTimeout"
    assert not is_permanent(raised.value)


@responses.activate
def test_404_is_not_found_and_permanent_without_a_retry():
    responses.get(URL, status=404, json={"detail": "No payment exists with token tr_1."})

    with pytest.raises(remote.NotFound) as raised:
        remote.call("Mollie", "GET", URL)

    assert len(responses.calls) == 1
    assert raised.value.status == 404
    assert is_permanent(raised.value)


@responses.activate
def test_a_refused_key_is_refused_permanent_and_the_key_is_in_no_message():
    responses.get(URL, status=401)

    with pytest.raises(remote.Refused) as raised:
        remote.call("Mollie", "GET", URL, headers={"Authorization": "Bearer live_secretkey"})

    assert raised.value.status == 401
    assert "live_secretkey" not in str(raised.value)
    assert str(raised.value) == "Mollie GET /v2/payments/tr_1: refused (HTTP 401)"
    assert is_permanent(raised.value)


@responses.activate
def test_a_redirect_is_not_followed():
    responses.get(URL, status=301, headers={"Location": "https://elsewhere.test/"})

    with pytest.raises(remote.Refused, match="check the base URL setting"):
        remote.call("Mollie", "GET", URL)

    assert len(responses.calls) == 1


@responses.activate
def test_an_answer_that_is_not_json_is_temporary():
    responses.get(URL, body="<html>proxy error</html>")

    with pytest.raises(remote.Unavailable, match="not JSON"):
        remote.call("Mollie", "GET", URL)


@responses.activate
def test_every_call_has_a_timeout(monkeypatch):
    seen = []
    send = requests.adapters.HTTPAdapter.send

    def spy(self, request, **kwargs):
        seen.append(kwargs.get("timeout"))
        return send(self, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", spy)
    responses.post(URL, json={})

    remote.call("PayPal", "POST", URL, json={})

    assert seen == [remote.TIMEOUT]
