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
