"""Settings: connections (secrets, test events), API keys, members."""

import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model

from dashboard.sample_events import send_test_event
from inbound.models import InboundEvent
from storefront_settings import services
from storefront_settings.models import ApiKey, AuditLog, Membership, ProviderSecret
from storefront_settings.selectors import webhook_path
from tests.factories import MembershipFactory, UserFactory

NEW_STRIPE = "whsec_newnewnewnewnewnewnew1234"
# Valid secrets for every provider the page connects, by the shapes SECRET_FORMATS asks for.
SECRETS = {
    "stripe": "whsec_testtesttesttesttest",
    "adyen": "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
    "easypost": "easypost-secret-1",
    "aftership": "aftership-secret-1",
    "generic": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}
PAGES = ["providers", "api-keys", "members"]


def audit(storefront, action):
    return AuditLog.objects.for_storefront(storefront).filter(action=action)


def set_role(tenant, role):
    tenant.membership.role = role
    tenant.membership.save()


def member(storefront, role=Membership.Role.STAFF, **user):
    return MembershipFactory(
        storefront=storefront, role=role, **({"user__" + k: v for k, v in user.items()})
    )


# --- Pages and access ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "staff", "viewer"])
@pytest.mark.parametrize("page", PAGES)
def test_every_member_sees_the_pages(client, two_storefronts, role, page):
    alpha, _ = two_storefronts
    set_role(alpha, role)
    client.force_login(alpha.owner)
    response = client.get(f"/app/alpha/settings/{page}/")
    assert response.status_code == 200
    body = response.content.decode()
    # Buttons that change things are for those who may change them: members are the owners'.
    may_change = role == "owner" if page == "members" else role != "viewer"
    assert ('class="danger"' in body) == may_change
    if page == "members":
        assert ("Invite a member" in body) == (role == "owner")
        assert alpha.owner.email in body


@pytest.mark.django_db
def test_viewers_see_no_buttons_and_staff_no_member_controls(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    set_role(alpha, "viewer")
    for page in PAGES:
        body = client.get(f"/app/alpha/settings/{page}/").content.decode()
        assert "csrfmiddlewaretoken" not in body.split('class="settings"')[1], page
    set_role(alpha, "staff")
    body = client.get("/app/alpha/settings/members/").content.decode()
    assert "/settings/members/invite/" not in body and "/remove/" not in body


def post_urls(tenant):
    """Every POST URL of these pages, with this tenant's slug and objects."""
    sf = tenant.storefront
    other = member(sf, role="staff")
    slug = sf.slug
    return [
        (f"/app/{slug}/settings/providers/stripe/secrets/", {"stripe-secret": NEW_STRIPE}),
        (f"/app/{slug}/settings/providers/secrets/{tenant.stripe_secret.pk}/revoke/", {}),
        (f"/app/{slug}/settings/providers/stripe/test/", {}),
        (f"/app/{slug}/settings/api-keys/new/", {"name": "Back office"}),
        (f"/app/{slug}/settings/api-keys/{tenant.api_key.pk}/revoke/", {}),
        (f"/app/{slug}/settings/members/invite/", {"email": "new@example.com", "role": "staff"}),
        (f"/app/{slug}/settings/members/{other.pk}/role/", {"role": "viewer"}),
        (f"/app/{slug}/settings/members/{other.pk}/remove/", {}),
    ]


def snapshot(storefront):
    return (
        list(
            ProviderSecret.objects.for_storefront(storefront)
            .values_list("pk", "revoked_at")
            .order_by("pk")
        ),
        list(
            ApiKey.objects.for_storefront(storefront).values_list("pk", "revoked_at").order_by("pk")
        ),
        list(
            Membership.objects.for_storefront(storefront).values_list("pk", "role").order_by("pk")
        ),
        AuditLog.objects.for_storefront(storefront).count(),
        get_user_model().objects.count(),
    )


@pytest.mark.django_db
def test_a_viewer_posts_nothing(client, two_storefronts):
    alpha, _ = two_storefronts
    urls = post_urls(alpha)
    set_role(alpha, "viewer")
    client.force_login(alpha.owner)
    before = snapshot(alpha.storefront)
    for url, data in urls:
        assert client.post(url, data).status_code == 403, url
    assert snapshot(alpha.storefront) == before


@pytest.mark.django_db
def test_staff_cannot_manage_members(client, two_storefronts):
    alpha, _ = two_storefronts
    urls = [item for item in post_urls(alpha) if "/members/" in item[0]]
    set_role(alpha, "staff")
    client.force_login(alpha.owner)
    before = snapshot(alpha.storefront)
    for url, data in urls:
        assert client.post(url, data).status_code == 403, url
    assert snapshot(alpha.storefront) == before


@pytest.mark.django_db
def test_another_storefronts_slug_and_ids_are_404(client, two_storefronts):
    alpha, bravo = two_storefronts
    theirs = post_urls(bravo)
    client.force_login(alpha.owner)
    before = snapshot(bravo.storefront)
    for page in PAGES:
        assert client.get(f"/app/bravo/settings/{page}/").status_code == 404
    for url, data in theirs:
        assert client.post(url, data).status_code == 404, url  # their slug
        if re.search(r"/\d+/", url):  # their ids under our slug
            assert client.post(url.replace("/app/bravo/", "/app/alpha/"), data).status_code == 404
    assert snapshot(bravo.storefront) == before
    assert client.get("/app/alpha/settings/providers/mollie/test/").status_code == 405
    assert client.post("/app/alpha/settings/providers/mollie/test/").status_code == 404


# --- Secrets ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_add_rotate_and_revoke_a_secret(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    old = alpha.stripe_secret
    page = client.get("/app/alpha/settings/providers/").content.decode()
    assert (
        "https://aftersale.test" + webhook_path(storefront=alpha.storefront, provider="stripe")
        in page
    )
    assert "…" + old.hint in page and old.secret not in page

    response = client.post(
        "/app/alpha/settings/providers/stripe/secrets/", {"stripe-secret": NEW_STRIPE}
    )
    assert response.status_code == 302
    active = ProviderSecret.objects.for_storefront(alpha.storefront).filter(revoked_at=None)
    assert sorted(active.values_list("hint", flat=True)) == sorted([old.hint, "1234"])
    page = client.get(response.url).content.decode()
    assert "Secret …1234 added for Stripe." in page
    assert "Rotation in progress" in page
    assert NEW_STRIPE not in page and old.secret not in page

    new = active.get(hint="1234")
    assert new.created_by == alpha.owner
    response = client.post(f"/app/alpha/settings/providers/secrets/{old.pk}/revoke/")
    assert response.status_code == 302
    assert list(active.values_list("pk", flat=True)) == [new.pk]
    # Revoking twice is no second change.
    client.post(f"/app/alpha/settings/providers/secrets/{old.pk}/revoke/")
    added = audit(alpha.storefront, "secret.added").get(actor=alpha.owner)
    revoked = audit(alpha.storefront, "secret.revoked").get()
    assert added.detail == {"provider": "stripe", "hint": "1234"}
    assert revoked.detail == {"provider": "stripe", "hint": old.hint}
    assert revoked.actor == alpha.owner
    everything = str(list(AuditLog.objects.for_storefront(alpha.storefront).values()))
    assert NEW_STRIPE not in everything and old.secret not in everything


@pytest.mark.django_db
def test_a_malformed_secret_is_refused_without_being_echoed(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    before = snapshot(alpha.storefront)
    typed = "sk_live_notawebhooksecret_9876"
    response = client.post(
        "/app/alpha/settings/providers/stripe/secrets/", {"stripe-secret": typed}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This is not a Stripe signing secret" in body
    assert "followed by the signing key" in body
    assert typed not in body and "9876" not in body
    assert snapshot(alpha.storefront) == before
    response = client.post("/app/alpha/settings/providers/adyen/secrets/", {"adyen-secret": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


# --- Test events --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", list(SECRETS))
def test_a_test_event_reaches_the_endpoint_and_is_accepted(
    client, live_server, two_storefronts, provider, settings
):
    settings.SITE_URL = live_server.url
    alpha, _ = two_storefronts
    if provider != "stripe":
        services.add_provider_secret(
            storefront=alpha.storefront, provider=provider, secret=SECRETS[provider]
        )
    # A newer secret: the test event is signed with it, not the older one.
    if provider == "stripe":
        services.add_provider_secret(
            storefront=alpha.storefront, provider="stripe", secret=NEW_STRIPE
        )
    client.force_login(alpha.owner)
    response = client.post(f"/app/alpha/settings/providers/{provider}/test/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Test event accepted." in body, body
    assert live_server.url + webhook_path(storefront=alpha.storefront, provider=provider) in body
    sent = audit(alpha.storefront, "webhook.test_sent").get()
    assert sent.detail == {"provider": provider, "status": 200, "accepted": True}
    assert sent.actor == alpha.owner
    stored = InboundEvent.objects.for_storefront(alpha.storefront)
    if provider in ("stripe", "adyen"):
        # Stored, as every verified payment event is; the worker finds nothing in it.
        event = stored.get()
        assert event.event_type in ("aftersale.test_event", "REPORT_AVAILABLE")
        assert '"ignored": true' not in body
    else:
        assert not stored.exists()
        assert "received and ignored, as a test event should be" in body


@pytest.mark.django_db(transaction=True)
def test_the_endpoint_refuses_an_event_signed_with_a_secret_it_does_not_have(
    live_server, two_storefronts
):
    alpha, _ = two_storefronts
    url = live_server.url + webhook_path(storefront=alpha.storefront, provider="stripe")
    result = send_test_event(
        storefront=alpha.storefront, provider="stripe", url=url, secret=NEW_STRIPE
    )
    assert result.status == 400 and not result.accepted
    assert "no matching signature" in result.answer
    assert audit(alpha.storefront, "webhook.test_sent").get().detail["accepted"] is False
    assert not InboundEvent.objects.for_storefront(alpha.storefront).exists()


@pytest.mark.django_db
def test_no_active_secret_sends_nothing(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    services.revoke_provider_secret(
        storefront=alpha.storefront, provider_secret=alpha.stripe_secret
    )
    response = client.post("/app/alpha/settings/providers/stripe/test/", follow=True)
    assert "No active Stripe secret: add one first. Nothing was sent." in response.content.decode()
    assert not audit(alpha.storefront, "webhook.test_sent").exists()


@pytest.mark.django_db
def test_an_unreachable_endpoint_is_reported(client, two_storefronts, settings):
    alpha, _ = two_storefronts
    # A port nothing listens on: bound, then closed.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SITE_URL = f"http://127.0.0.1:{port}"
    client.force_login(alpha.owner)
    response = client.post("/app/alpha/settings/providers/stripe/test/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "The endpoint could not be reached." in body
    assert "Connection refused" in body
    assert audit(alpha.storefront, "webhook.test_sent").get().detail["status"] is None


class _InternalService(BaseHTTPRequestHandler):
    """Something on another port of an allowed host that must never be read through us."""

    requests = 0

    def do_POST(self):  # noqa: N802 - the name http.server calls
        type(self).requests += 1
        body = b"INTERNAL-ONLY admin token 0xDEADBEEF " * 100
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def internal_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _InternalService)
    _InternalService.requests = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_the_host_header_cannot_point_the_test_event_at_another_port(
    client, live_server, two_storefronts, settings, internal_service
):
    """The attack: an allowed host name with another port in the Host header made the server
    post to that port and show the answer. The test event now goes to SITE_URL only."""
    settings.SITE_URL = live_server.url
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    response = client.post(
        "/app/alpha/settings/providers/stripe/test/", HTTP_HOST=f"127.0.0.1:{internal_service}"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert _InternalService.requests == 0
    assert "INTERNAL-ONLY" not in body and f":{internal_service}" not in body
    assert "Test event accepted." in body


@pytest.mark.django_db
def test_an_answer_that_is_not_ours_is_never_shown(
    client, two_storefronts, settings, internal_service
):
    # Even SITE_URL misconfigured to point at something else: its status, not its body.
    settings.SITE_URL = f"http://127.0.0.1:{internal_service}"
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    body = client.post("/app/alpha/settings/providers/stripe/test/").content.decode()
    assert _InternalService.requests == 1
    assert "INTERNAL-ONLY" not in body and "DEADBEEF" not in body
    assert "an answer that is not from an Aftersale webhook endpoint (not shown)" in body
    assert "Test event refused." in body
    assert audit(alpha.storefront, "webhook.test_sent").get().detail == {
        "provider": "stripe",
        "status": 200,
        "accepted": False,
    }


# --- API keys -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_key_is_shown_once_then_revoked(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    response = client.post("/app/alpha/settings/api-keys/new/", {"name": "Back office"})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    raw = re.search(r"as_[A-Za-z0-9_-]{43}", response.content.decode()).group(0)
    key = ApiKey.objects.for_storefront(alpha.storefront).get(name="Back office")
    assert raw.startswith(key.prefix) and key.created_by == alpha.owner

    assert client.get("/api/v1/storefront/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    page = client.get("/app/alpha/settings/api-keys/").content.decode()
    assert raw not in page and key.prefix in page
    assert "Back office" in page
    assert raw not in str(list(AuditLog.objects.for_storefront(alpha.storefront).values()))
    assert audit(alpha.storefront, "api_key.created").filter(actor=alpha.owner).exists()

    response = client.post(f"/app/alpha/settings/api-keys/{key.pk}/revoke/", follow=True)
    assert f"API key {key.prefix}… revoked." in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert client.get("/api/v1/storefront/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert audit(alpha.storefront, "api_key.revoked").get().actor == alpha.owner


@pytest.mark.django_db
def test_a_key_needs_a_name(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    before = snapshot(alpha.storefront)
    response = client.post("/app/alpha/settings/api-keys/new/", {"name": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert snapshot(alpha.storefront) == before


# --- Members ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_invite_an_existing_user(client, two_storefronts):
    alpha, bravo = two_storefronts
    client.force_login(alpha.owner)
    response = client.post(
        "/app/alpha/settings/members/invite/",
        {"email": bravo.owner.email.upper(), "role": "viewer"},
        follow=True,
    )
    assert "can now sign in to this storefront" in response.content.decode()
    added = Membership.objects.for_storefront(alpha.storefront).get(user=bravo.owner)
    assert added.role == "viewer"
    assert audit(alpha.storefront, "member.invited").get().detail == {
        "member": bravo.owner.email,
        "role": "viewer",
        "new_user": False,
    }
    # Twice: a clear refusal, nothing added.
    before = snapshot(alpha.storefront)
    response = client.post(
        "/app/alpha/settings/members/invite/", {"email": bravo.owner.email, "role": "staff"}
    )
    assert response.status_code == 400
    assert "is already a member of this storefront" in response.content.decode()
    assert snapshot(alpha.storefront) == before


@pytest.mark.django_db
def test_invite_a_new_address_gives_a_one_time_set_password_link(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    response = client.post(
        "/app/alpha/settings/members/invite/", {"email": "Nina@Example.com", "role": "staff"}
    )
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert "It works once, within 3 days" in body
    link = re.search(r"http://testserver(/join/[^<\s]+)", body).group(1)
    user = get_user_model().objects.get(username="Nina@example.com")
    assert not user.has_usable_password()
    assert Membership.objects.for_storefront(alpha.storefront).get(user=user).role == "staff"
    detail = audit(alpha.storefront, "member.invited").get().detail
    assert detail == {"member": "Nina@example.com", "role": "staff", "new_user": True}
    # Neither in the audit log nor shown again.
    assert link.split("/")[-2] not in str(detail)
    assert link not in client.get("/app/alpha/settings/members/").content.decode()

    client.logout()
    landing = client.get(link)
    assert landing.status_code == 302  # to the same page without the token in its URL
    form_url = landing.url
    assert "Choose your password" in client.get(form_url).content.decode()
    bad = client.post(form_url, {"new_password1": "a", "new_password2": "b"})
    assert bad.status_code == 400
    user.refresh_from_db()
    assert not user.has_usable_password()
    done = client.post(
        form_url, {"new_password1": "moonlit-harbour-42", "new_password2": "moonlit-harbour-42"}
    )
    assert done.status_code == 302 and done.url == "/app/"
    user.refresh_from_db()
    assert user.check_password("moonlit-harbour-42")
    assert client.get("/app/alpha/settings/members/").status_code == 200  # signed in
    client.logout()
    # Once used, the link is dead.
    assert client.get(link).status_code == 404


@pytest.mark.django_db
def test_a_join_link_is_only_for_a_member_without_a_password(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    response = client.post(
        "/app/alpha/settings/members/invite/", {"email": "nina@example.com", "role": "staff"}
    )
    link = re.search(r"/join/[^<\s]+", response.content.decode()).group(0)
    client.logout()
    assert client.get(link[:-4] + "xyz/").status_code == 404  # altered token
    assert client.get(link).status_code == 302
    user = get_user_model().objects.get(username="nina@example.com")
    # Removed from the storefront: the link no longer works.
    Membership.objects.for_storefront(alpha.storefront).filter(user=user).delete()
    assert client.get(link).status_code == 404
    services.invite_member(storefront=alpha.storefront, email=user.email, role="viewer")
    assert client.get(link).status_code == 302
    # Once the user has a password (however set), the link is dead.
    user.set_password("moonlit-harbour-42")
    user.save()
    assert client.get(link).status_code == 404


@pytest.mark.django_db
def test_an_invitation_needs_a_valid_email_and_role(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    before = snapshot(alpha.storefront)
    response = client.post(
        "/app/alpha/settings/members/invite/", {"email": "not an email", "role": "king"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid email address." in body and "Select a valid choice." in body
    assert snapshot(alpha.storefront) == before


@pytest.mark.django_db
def test_roles_change_but_the_last_owner_stays(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    staff = member(alpha.storefront, email="sam@example.com", username="sam@example.com")
    mine = alpha.membership

    response = client.post(f"/app/alpha/settings/members/{mine.pk}/role/", {"role": "staff"})
    assert response.status_code == 400
    assert "is the only owner" in response.content.decode()
    response = client.post(f"/app/alpha/settings/members/{mine.pk}/remove/")
    assert response.status_code == 400
    assert "is the only owner and cannot be removed" in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == "owner"

    response = client.post(f"/app/alpha/settings/members/{staff.pk}/role/", {"role": "owner"})
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.role == "owner"
    detail = audit(alpha.storefront, "member.role_changed").get().detail
    assert detail == {"member": "sam@example.com", "from": "staff", "to": "owner"}
    # Two owners now: one may step down.
    response = client.post(f"/app/alpha/settings/members/{mine.pk}/role/", {"role": "staff"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.role == "staff"
    bad = client.post(f"/app/alpha/settings/members/{staff.pk}/role/", {"role": "king"})
    assert bad.status_code == 403  # no longer an owner


@pytest.mark.django_db
def test_remove_a_member(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    other = member(alpha.storefront, email="sam@example.com", username="sam@example.com")
    response = client.post(f"/app/alpha/settings/members/{other.pk}/remove/", follow=True)
    assert "sam@example.com was removed." in response.content.decode()
    assert not Membership.objects.for_storefront(alpha.storefront).filter(pk=other.pk).exists()
    assert get_user_model().objects.filter(pk=other.user_id).exists()  # the user stays
    detail = audit(alpha.storefront, "member.removed").get().detail
    assert detail == {"member": "sam@example.com", "role": "staff"}
    bad = client.post(f"/app/alpha/settings/members/{alpha.membership.pk}/role/", {"role": "x"})
    assert bad.status_code == 400
    assert Membership.objects.for_storefront(alpha.storefront).get().role == "owner"


@pytest.mark.django_db
def test_an_owner_who_leaves_goes_home(client, two_storefronts):
    alpha, _ = two_storefronts
    member(alpha.storefront, role="owner")
    client.force_login(alpha.owner)
    response = client.post(f"/app/alpha/settings/members/{alpha.membership.pk}/remove/")
    assert response.status_code == 302 and response.url == "/app/"
    assert client.get("/app/alpha/settings/members/").status_code == 404


@pytest.mark.django_db
def test_users_are_not_shared_by_accident(two_storefronts):
    alpha, _ = two_storefronts
    user = UserFactory(username="kim@example.com", email="kim@example.com")
    invitation = services.invite_member(
        storefront=alpha.storefront, email="KIM@example.com", role="viewer"
    )
    assert invitation.membership.user == user and not invitation.new_user
