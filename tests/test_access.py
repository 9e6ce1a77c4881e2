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


# The login limits (config/login_limits.py, django-axes on the cache): 5 failures a minute per
# username and address, 10 per address, on /login/ and /admin/login/ alike.
LOGIN = "/login/"
LIMITED = "Too many attempts; try again in a minute."


def attempt(client, username, given="wrong", address="203.0.113.7", path=LOGIN, **headers):
    return client.post(
        path, {"username": username, "password": given}, REMOTE_ADDR=address, **headers
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def full_width(text: str) -> str:
    """The text in full-width forms ('ｍｅｒｃｈａｎｔ＠…'), which NFKC turns back into ASCII."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def assert_limited(response):
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    assert LIMITED in response.content.decode()
    assert 'role="alert"' in response.content.decode()


@pytest.mark.django_db
def test_the_fifth_wrong_password_for_one_username_from_one_address_is_429(
    client, two_storefronts, fresh_cache
):
    alpha, bravo = two_storefronts
    user = alpha.owner.username
    failures = [attempt(client, user) for _ in range(4)]
    assert [r.status_code for r in failures] == [200] * 4
    assert LIMITED not in failures[-1].content.decode()
    assert_limited(attempt(client, user))
    # From that address even the right password is refused, and case and spaces do not make
    # another username.
    assert attempt(client, user, PASSWORD).status_code == 429
    assert attempt(client, f"  {user.upper()} ", PASSWORD).status_code == 429
    assert not logged_in(client)
    # The page is never limited, and another username logs in from the same address.
    assert client.get(LOGIN, REMOTE_ADDR="203.0.113.7").status_code == 200
    other = attempt(client, bravo.owner.username, PASSWORD)
    assert other.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_an_attackers_failures_do_not_lock_the_owner_out_from_their_own_address(
    client, two_storefronts, fresh_cache
):
    alpha, _ = two_storefronts
    user = alpha.owner.username
    # An attacker fails again and again at the owner's account, from many addresses.
    for n in range(1, 6):
        answers = [attempt(client, user, address=f"203.0.113.{n}").status_code for _ in range(7)]
        assert answers == [200] * 4 + [429] * 3
    # The owner, from an address that did not fail, is let in with the right password.
    owner = attempt(client, user, PASSWORD, address="198.51.100.1")
    assert owner.status_code == 302 and logged_in(client)
    assert int(client.session["_auth_user_id"]) == alpha.owner.pk


@pytest.mark.django_db
def test_a_full_width_username_shares_the_budget_of_the_username(
    client, two_storefronts, fresh_cache
):
    alpha, _ = two_storefronts
    user = alpha.owner.username
    variant = full_width(user)
    assert variant != user
    for _ in range(4):
        assert attempt(client, user).status_code == 200
    # Not a fresh budget: the fifth failure, in full-width letters, is the limit.
    assert_limited(attempt(client, variant))
    assert attempt(client, variant.upper(), PASSWORD).status_code == 429
    assert not logged_in(client)
    # It is the same account to Django's login form (NFKC): from elsewhere, it logs in.
    elsewhere = attempt(client, variant, PASSWORD, address="198.51.100.1")
    assert elsewhere.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_the_tenth_failure_from_one_address_is_429_for_every_username(
    client, two_storefronts, fresh_cache
):
    alpha, _ = two_storefronts
    # Ten failures over five usernames (two each, under the per-username limit).
    answers = [attempt(client, f"guess{n % 5}@example.com").status_code for n in range(10)]
    assert answers == [200] * 9 + [429]
    assert attempt(client, "guess9@example.com").status_code == 429
    assert attempt(client, alpha.owner.username, PASSWORD).status_code == 429
    assert not logged_in(client)
    # Another address is not held back.
    elsewhere = attempt(client, alpha.owner.username, PASSWORD, address="198.51.100.1")
    assert elsewhere.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_the_admin_login_is_limited_like_the_login_page(client, fresh_cache):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("ops@example.com", "ops@example.com", PASSWORD)
    admin_login = reverse("admin:login")
    # Three failures on /login/ and two on the admin's: one budget.
    for _ in range(3):
        assert attempt(client, "ops@example.com").status_code == 200
    assert attempt(client, "ops@example.com", path=admin_login).status_code == 200
    assert_limited(attempt(client, full_width("ops@example.com"), path=admin_login))
    # Limited before the password is looked at: the right one is refused too.
    assert attempt(client, "ops@example.com", PASSWORD, path=admin_login).status_code == 429
    # Spraying usernames at the admin hits the address's limit.
    answers = [
        attempt(client, f"staff{n}@example.com", path=admin_login, address="203.0.113.8")
        for n in range(10)
    ]
    assert [r.status_code for r in answers] == [200] * 9 + [429]
    assert not logged_in(client)


@pytest.mark.django_db
def test_the_limited_page_is_the_same_for_an_account_that_does_not_exist(
    client, two_storefronts, fresh_cache
):
    import re

    alpha, _ = two_storefronts
    pages = {}
    for username in (alpha.owner.username, "nobody@example.com"):
        for _ in range(4):
            attempt(client, username)
        page = attempt(client, username)
        assert page.status_code == 429
        # Without the per-response nonce and CSRF token, and the username echoed back.
        text = page.content.decode().replace(username, "USERNAME")
        pages[username] = re.sub(r'(nonce|value)="[^"]*"', "", text)
    assert pages[alpha.owner.username] == pages["nobody@example.com"]


@pytest.mark.django_db
def test_a_successful_login_spends_nothing(client, two_storefronts, fresh_cache):
    alpha, _ = two_storefronts
    for _ in range(12):
        assert attempt(client, alpha.owner.username, PASSWORD).status_code == 302
        client.logout()
    assert attempt(client, alpha.owner.username).status_code == 200  # a failure, not a limit


def _counters(settings):
    """The login counters in Redis, under this test's own cache prefix (fresh_cache)."""
    import redis

    connection = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    return connection, list(connection.scan_iter(match=f"{prefix}:*axes-*"))


@pytest.mark.django_db
def test_the_counters_end_a_minute_after_the_last_failure(
    client, two_storefronts, fresh_cache, settings
):
    alpha, _ = two_storefronts
    for _ in range(6):
        attempt(client, alpha.owner.username)
    assert attempt(client, alpha.owner.username, PASSWORD).status_code == 429
    connection, keys = _counters(settings)
    # One per username and address, one per address; none without an end.
    assert len(keys) == 2
    assert all(0 < connection.ttl(key) <= 60 for key in keys)
    # The minute passes (Redis's own clock cannot be moved: the keys end now instead).
    for key in keys:
        connection.delete(key)
    assert attempt(client, alpha.owner.username, PASSWORD).status_code == 302
    assert logged_in(client)


@pytest.mark.django_db
def test_behind_the_trusted_proxy_the_limit_counts_the_address_it_names(
    client, two_storefronts, fresh_cache, settings
):
    alpha, _ = two_storefronts
    settings.TRUSTED_PROXIES = ["172.30.0.0/24"]
    # Every request comes from the proxy's address; the proxy names the client.
    proxy = {"address": "172.30.0.2"}
    for n in range(9):
        attempt(client, f"guess{n % 5}@example.com", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    limited = attempt(client, "x@example.com", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    assert limited.status_code == 429
    other_client = attempt(
        client, alpha.owner.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy
    )
    assert other_client.status_code == 302


@pytest.mark.django_db
def test_an_ipv6_client_is_counted_by_its_64_block(client, two_storefronts, fresh_cache):
    alpha, _ = two_storefronts
    # One attacker, a fresh address of its /64 for each try: still one budget.
    answers = [
        attempt(client, f"guess{n}@example.com", address=f"2001:db8:1:2::{n + 1:x}").status_code
        for n in range(10)
    ]
    assert answers == [200] * 9 + [429]
    elsewhere = attempt(client, alpha.owner.username, PASSWORD, address="2001:db8:1:3::1")
    assert elsewhere.status_code == 302


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::7", "2001:db8:1:2::"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", None),
        ("not an address", None),
    ],
)
def test_one_rule_names_the_client_address(address, expected):
    from types import SimpleNamespace

    from config.client_address import client_address

    assert client_address(SimpleNamespace(META={"REMOTE_ADDR": address})) == expected
    assert client_address(SimpleNamespace(META={})) is None


@pytest.mark.django_db
def test_the_parcel_lookup_counts_by_the_same_rule(
    client, two_storefronts, fresh_cache, settings, monkeypatch
):
    from types import SimpleNamespace

    from django_ratelimit import core

    # django-ratelimit's clock, frozen: its one-minute window must not end between requests.
    monkeypatch.setattr(core, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    settings.TRUSTED_PROXIES = ["172.30.0.0/24"]
    url = f"/track/{two_storefronts[0].storefront.slug}/"
    form = {"order_reference": "X-1", "email": "eve@example.com"}

    def lookup(address):
        return client.post(url, form, REMOTE_ADDR="172.30.0.2", HTTP_X_FORWARDED_FOR=address)

    assert [lookup("203.0.113.7").status_code for _ in range(10)] == [200] * 10
    assert lookup("203.0.113.7").status_code == 429
    assert lookup("198.51.100.1").status_code == 200
    # An IPv6 client's /64 is one client here too, and an IPv4 one through IPv6 is itself.
    block = [lookup(f"2001:db8:1:2::{n + 1:x}").status_code for n in range(11)]
    assert block == [200] * 10 + [429]
    assert lookup("::ffff:203.0.113.7").status_code == 429


@pytest.mark.django_db
def test_ops_lift_an_addresss_limit_before_its_minute_ends(client, two_storefronts, fresh_cache):
    import io

    from django.core.management import call_command

    alpha, _ = two_storefronts
    for n in range(10):
        attempt(client, f"guess{n % 5}@example.com")
    assert attempt(client, alpha.owner.username, PASSWORD).status_code == 429
    call_command("axes_reset_ip", "203.0.113.7", stdout=io.StringIO())
    assert attempt(client, alpha.owner.username, PASSWORD).status_code == 302
