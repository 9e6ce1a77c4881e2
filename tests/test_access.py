import pytest
from django.urls import reverse

from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_app_requires_login(client):
    response = client.get("/app/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


@pytest.mark.django_db
def test_login_page_renders_with_a_content_security_policy(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_a_merchant_logs_in_and_lands_on_their_storefront(client, two_storefronts):
    alpha, _ = two_storefronts
    response = client.post(
        "/login/", {"username": alpha.owner.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard:storefront", args=["alpha"])
    assert b"Alpha" in response.content


@pytest.mark.django_db
def test_a_wrong_password_is_refused(client, two_storefronts):
    alpha, _ = two_storefronts
    response = client.post("/login/", {"username": alpha.owner.username, "password": "wrong"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_another_storefront_is_404_like_a_missing_one(client, two_storefronts):
    alpha, bravo = two_storefronts
    client.force_login(alpha.owner)
    assert client.get(reverse("dashboard:storefront", args=["alpha"])).status_code == 200
    theirs = client.get(reverse("dashboard:storefront", args=[bravo.storefront.slug]))
    missing = client.get(reverse("dashboard:storefront", args=["no-such-shop"]))
    assert theirs.status_code == missing.status_code == 404
    assert b"Bravo" not in theirs.content


@pytest.mark.django_db
def test_the_list_shows_only_the_users_storefronts(client, two_storefronts, make_tenant):
    alpha, bravo = two_storefronts
    charlie = make_tenant("Charlie", "whsec_charliecharliecharlie")
    charlie.membership.user = alpha.owner
    charlie.membership.save()
    client.force_login(alpha.owner)
    response = client.get("/app/")
    assert response.status_code == 200
    assert [s.slug for s in response.context["storefronts"]] == ["alpha", "charlie"]
    assert b"Bravo" not in response.content


@pytest.mark.django_db
def test_logout_is_a_post(client, two_storefronts):
    client.force_login(two_storefronts[0].owner)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/app/").status_code == 302


# The login limit: 10 failures a minute per address, 5 per username (config/login.py).
LOGIN = "/login/"
LIMITED = "Too many attempts; try again in a minute."


@pytest.fixture
def frozen_clock(monkeypatch):
    """The limiter's clock, frozen (its one-minute window must not end between the requests)
    and moved on only when a test says so."""
    from types import SimpleNamespace

    from django_ratelimit import core

    now = SimpleNamespace(value=1_800_000_000.0)
    monkeypatch.setattr(core, "time", SimpleNamespace(time=lambda: now.value))
    return now


def attempt(client, username, given="wrong", address="203.0.113.7", **headers):
    return client.post(
        LOGIN, {"username": username, "password": given}, REMOTE_ADDR=address, **headers
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_the_sixth_wrong_password_for_one_username_is_429_even_when_right(
    client, two_storefronts, fresh_cache, frozen_clock
):
    alpha, bravo = two_storefronts
    user = alpha.owner.username
    # Five failures, from five addresses: the username's budget, not the address's.
    failures = [attempt(client, user, address=f"203.0.113.{n}") for n in range(5)]
    assert [r.status_code for r in failures] == [200] * 5
    assert LIMITED not in failures[-1].content.decode()

    sixth = attempt(client, user, address="203.0.113.99")
    assert sixth.status_code == 429
    assert 1 <= int(sixth.headers["Retry-After"]) <= 60
    assert LIMITED in sixth.content.decode()
    assert 'role="alert"' in sixth.content.decode()
    # Case and spaces do not make another username; the right password is refused too.
    right = attempt(client, f"  {user.upper()} ", PASSWORD, address="198.51.100.1")
    assert right.status_code == 429 and not logged_in(client)
    # The page is never limited, and another username logs in from the same addresses.
    assert client.get(LOGIN, REMOTE_ADDR="203.0.113.99").status_code == 200
    other = attempt(client, bravo.owner.username, PASSWORD, address="203.0.113.99")
    assert other.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_the_eleventh_failure_from_one_address_is_429_for_every_username(
    client, two_storefronts, fresh_cache, frozen_clock
):
    alpha, bravo = two_storefronts
    # Ten failures over five usernames (two each, under the username limit).
    answers = [attempt(client, f"guess{n % 5}@example.com").status_code for n in range(10)]
    assert answers == [200] * 10
    assert attempt(client, "guess9@example.com").status_code == 429
    assert attempt(client, alpha.owner.username, PASSWORD).status_code == 429
    assert not logged_in(client)
    # Another address is not held back.
    elsewhere = attempt(client, alpha.owner.username, PASSWORD, address="198.51.100.1")
    assert elsewhere.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_the_limited_page_is_the_same_for_an_account_that_does_not_exist(
    client, two_storefronts, fresh_cache, frozen_clock
):
    import re

    alpha, _ = two_storefronts
    pages = {}
    for username in (alpha.owner.username, "nobody@example.com"):
        for _ in range(5):
            attempt(client, username)
        page = attempt(client, username)
        assert page.status_code == 429
        # Without the per-response nonce and CSRF token, and the username echoed back.
        text = page.content.decode().replace(username, "USERNAME")
        pages[username] = re.sub(r'(nonce|value)="[^"]*"', "", text)
    assert pages[alpha.owner.username] == pages["nobody@example.com"]


@pytest.mark.django_db
def test_a_successful_login_spends_nothing(client, two_storefronts, fresh_cache, frozen_clock):
    alpha, _ = two_storefronts
    for _ in range(12):
        assert attempt(client, alpha.owner.username, PASSWORD).status_code == 302
        client.logout()
    assert attempt(client, alpha.owner.username).status_code == 200  # a failure, not a limit


@pytest.mark.django_db
def test_the_window_ending_lets_the_merchant_in(client, two_storefronts, fresh_cache, frozen_clock):
    alpha, _ = two_storefronts
    for _ in range(6):
        attempt(client, alpha.owner.username)
    assert attempt(client, alpha.owner.username, PASSWORD).status_code == 429
    frozen_clock.value += 60
    assert attempt(client, alpha.owner.username, PASSWORD).status_code == 302
    assert logged_in(client)


@pytest.mark.django_db
def test_behind_a_proxy_the_limit_counts_the_address_the_proxy_names(
    client, two_storefronts, fresh_cache, frozen_clock, settings
):
    alpha, _ = two_storefronts
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    # Every request comes from the proxy's address; the proxy names the client.
    proxy = {"address": "10.0.0.1"}
    for n in range(10):
        attempt(client, f"guess{n % 5}@example.com", HTTP_X_REAL_IP="203.0.113.7", **proxy)
    limited = attempt(client, "x@example.com", HTTP_X_REAL_IP="203.0.113.7", **proxy)
    assert limited.status_code == 429
    other_client = attempt(
        client, alpha.owner.username, PASSWORD, HTTP_X_REAL_IP="198.51.100.1", **proxy
    )
    assert other_client.status_code == 302
