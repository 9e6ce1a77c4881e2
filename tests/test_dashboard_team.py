"""Settings: connections (secrets, test events), API keys, members and their invitations (the
attacks on invitations are in test_invitations.py)."""

import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model

from dashboard.sample_events import send_test_event
from inbound.models import InboundEvent
from notifications.models import Message
from storefront_settings.models import ApiKey, AuditLog, Invitation, Membership, ProviderSecret
from storefront_settings.selectors import webhook_path
from storefront_settings.services import credentials, members
from tests.factories import MembershipFactory, UserFactory
from tests.invitation_helpers import (
    ACCEPT,
    PASSWORD,
    choose_password,
    emailed_link,
    invite,
    open_link,
    token_of,
)

NEW_STRIPE = "whsec_newnewnewnewnewnewnew1234"
# Valid secrets for every provider the page connects, by the shapes their SecretFormats ask for.
SECRETS = {
    "stripe": "whsec_testtesttesttesttest",
    "adyen": "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
    "payplug": "sk_test_7c5cb3b54abcf5062f056639e809368c",
    "lyra": "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M",
    "mollie": "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",
    "paypal": (
        "AV8hdBBM7nB9W2fGsS-yzNpW9pQ7j0fqOGm1RjbhT2aXEVtA3TLxGSs_RjbB2vKSf1aA5VeVgXn1K6Ky"
        ":EJuSmYMfsVyQ3kDOoAHsG1QTmUdaL3b6sk-2VBqS7pBwDrLnoC_jpMfTmV7kaW5y0CbW8fq2yW0L9A"
        ":8PT597110X687430LKGECATA"
    ),
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
    other = MembershipFactory(storefront=sf, role="staff")
    invited = members.invite_member(storefront=sf, email=f"new@{sf.slug}.example", role="staff")
    slug = sf.slug
    invitation = invited.invitation.pk
    return [
        (f"/app/{slug}/settings/providers/stripe/secrets/", {"stripe-secret": NEW_STRIPE}),
        (f"/app/{slug}/settings/providers/secrets/{tenant.stripe_secret.pk}/revoke/", {}),
        (f"/app/{slug}/settings/providers/stripe/test/", {}),
        (f"/app/{slug}/settings/api-keys/new/", {"name": "Back office"}),
        (f"/app/{slug}/settings/api-keys/{tenant.api_key.pk}/revoke/", {}),
        (f"/app/{slug}/settings/members/invite/", {"email": "new@example.com", "role": "staff"}),
        (f"/app/{slug}/settings/members/{other.pk}/role/", {"role": "viewer"}),
        (f"/app/{slug}/settings/members/{other.pk}/remove/", {}),
        (f"/app/{slug}/settings/members/invitations/{invitation}/resend/", {}),
        (f"/app/{slug}/settings/members/invitations/{invitation}/revoke/", {}),
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
        list(
            Invitation.objects.for_storefront(storefront)
            .values_list("pk", "token_hash", "expires_at", "revoked_at", "accepted_at")
            .order_by("pk")
        ),
        Message.objects.for_storefront(storefront).count(),
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
    assert client.get("/app/alpha/settings/providers/nosuch/test/").status_code == 405
    assert client.post("/app/alpha/settings/providers/nosuch/test/").status_code == 404


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
@pytest.mark.parametrize(
    ("provider", "secret"),
    # Lyra's form key signs the other of its two integrations' notifications.
    [*SECRETS.items(), ("lyra", "Zx8Qw3Lp5Rt7Yu9K")],
)
def test_a_test_event_reaches_the_endpoint_and_is_accepted(
    client, live_server, two_storefronts, provider, secret, settings
):
    settings.SITE_URL = live_server.url
    alpha, _ = two_storefronts
    if provider != "stripe":
        credentials.add_provider_secret(
            storefront=alpha.storefront, provider=provider, secret=secret
        )
    # A newer secret: the test event is signed with it, not the older one.
    if provider == "stripe":
        credentials.add_provider_secret(
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
    if provider in ("stripe", "adyen", "lyra"):
        # Stored, as every verified payment event is; the worker finds nothing in it.
        event = stored.get()
        assert event.event_type in (
            "aftersale.test_event",
            "REPORT_AVAILABLE",
            "rest.ACCEPTED",
            "form.ACCEPTED",
        )
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
    credentials.revoke_provider_secret(
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


def invitation_of(storefront, email):
    return Invitation.objects.for_storefront(storefront).get(email=email)


@pytest.mark.django_db
def test_invite_an_existing_user(client, two_storefronts):
    alpha, bravo = two_storefronts
    client.force_login(alpha.owner)
    address = bravo.owner.email
    response = invite(client, "alpha", address.upper(), role="viewer")
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert f"Invitation emailed to {address}." in page
    # Nothing granted until they accept: no membership, and Bravo's owner sees no Alpha.
    assert not Membership.objects.for_storefront(alpha.storefront).filter(user=bravo.owner).exists()
    assert audit(alpha.storefront, "member.invited").get().detail == {
        "email": address,
        "role": "viewer",
    }
    link = emailed_link(address)
    client.force_login(bravo.owner)
    assert client.get("/app/alpha/").status_code == 404
    assert "Accept the invitation" in open_link(client, link).content.decode()
    response = client.post(ACCEPT)
    assert response.status_code == 302 and response.url == "/app/alpha/"
    added = Membership.objects.for_storefront(alpha.storefront).get(user=bravo.owner)
    assert added.role == "viewer"
    assert client.get("/app/alpha/").status_code == 200
    # Invited again once a member: a clear refusal, nothing added.
    client.force_login(alpha.owner)
    before = snapshot(alpha.storefront)
    response = invite(client, "alpha", address, role="staff")
    assert response.status_code == 400
    assert "is already a member of this storefront" in response.content.decode()
    assert snapshot(alpha.storefront) == before


@pytest.mark.django_db
def test_invite_a_new_address_emails_it_a_link_to_choose_a_password(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    response = invite(client, "alpha", "Nina@Example.com")
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Invitation emailed to nina@example.com." in page
    assert "/join/" not in page
    # No account is made by inviting: the address's reader makes it, by accepting.
    assert not get_user_model().objects.filter(username__iexact="nina@example.com").exists()
    detail = audit(alpha.storefront, "member.invited").get().detail
    assert detail == {"email": "nina@example.com", "role": "staff"}

    link = emailed_link("nina@example.com")
    assert token_of(link) not in str(detail)
    assert token_of(link) not in client.get("/app/alpha/settings/members/").content.decode()
    client.logout()
    form = open_link(client, link)  # the token moves to the session, out of the page's URL
    assert form.status_code == 200
    body = form.content.decode()
    assert "Choose a password to accept" in body and "Alpha" in body
    bad = client.post(ACCEPT, {"new_password1": "a", "new_password2": "b"})
    assert bad.status_code == 400
    assert not get_user_model().objects.filter(username="nina@example.com").exists()
    done = client.post(ACCEPT, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302 and done.url == "/app/alpha/"
    user = get_user_model().objects.get(username="nina@example.com")
    assert user.check_password(PASSWORD)
    assert Membership.objects.for_storefront(alpha.storefront).get(user=user).role == "staff"
    joined = audit(alpha.storefront, "member.joined").get()
    assert joined.actor == user
    assert joined.detail == {"member": "nina@example.com", "role": "staff"}
    assert client.get("/app/alpha/settings/members/").status_code == 200  # signed in
    client.logout()
    # Once used, the link is dead.
    assert client.get(link).status_code == 404
    assert client.get(ACCEPT).status_code == 404
    assert choose_password(client, link, "another-harbour-43").status_code == 404
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_pending_invitations_are_listed_and_only_owners_act_on_them(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    invite(client, "alpha", "nina@example.com", role="viewer")
    invitation = invitation_of(alpha.storefront, "nina@example.com")
    resend = f"/app/alpha/settings/members/invitations/{invitation.pk}/resend/"
    revoke = f"/app/alpha/settings/members/invitations/{invitation.pk}/revoke/"
    page = client.get("/app/alpha/settings/members/").content.decode()
    assert "Invitations not accepted yet" in page and "nina@example.com" in page
    assert resend in page and revoke in page
    for role in ("staff", "viewer"):
        set_role(alpha, role)
        page = client.get("/app/alpha/settings/members/").content.decode()
        assert "nina@example.com" in page and resend not in page and revoke not in page
        assert client.post(resend).status_code == 403
        assert client.post(revoke).status_code == 403
    set_role(alpha, "owner")
    assert invitation_of(alpha.storefront, "nina@example.com").revoked_at is None
    response = client.post(revoke, follow=True)
    assert "The invitation to nina@example.com is revoked" in response.content.decode()
    assert "nina@example.com" not in client.get("/app/alpha/settings/members/").content.decode()
    assert audit(alpha.storefront, "invitation.revoked").get().actor == alpha.owner
    # Revoked: it can be neither resent nor revoked again (no second audit row).
    assert client.post(resend).status_code == 404
    assert "was already revoked" in client.post(revoke, follow=True).content.decode()
    assert audit(alpha.storefront, "invitation.revoked").count() == 1


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
def test_roles_change_but_the_last_owner_stays(client, two_storefronts, member_of):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    staff = member_of(alpha.storefront, email="sam@example.com", username="sam@example.com")
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
def test_remove_a_member(client, two_storefronts, member_of):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    other = member_of(alpha.storefront, email="sam@example.com", username="sam@example.com")
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
def test_an_owner_who_leaves_goes_home(client, two_storefronts, member_of):
    alpha, _ = two_storefronts
    member_of(alpha.storefront, role="owner")
    client.force_login(alpha.owner)
    response = client.post(f"/app/alpha/settings/members/{alpha.membership.pk}/remove/")
    assert response.status_code == 302 and response.url == "/app/"
    assert client.get("/app/alpha/settings/members/").status_code == 404


@pytest.mark.django_db
def test_users_are_not_shared_by_accident(two_storefronts):
    alpha, _ = two_storefronts
    user = UserFactory(username="kim@example.com", email="kim@example.com")
    issued = members.invite_member(
        storefront=alpha.storefront, email="KIM@example.com", role="viewer"
    )
    # The account exists, yet inviting its address gives it nothing: only accepting does.
    assert issued.invitation.email == "kim@example.com"
    assert not Membership.objects.for_storefront(alpha.storefront).filter(user=user).exists()
    # Inviting it again renews the one invitation (a new token), never a second one.
    again = members.invite_member(
        storefront=alpha.storefront, email="kim@example.com", role="staff"
    )
    assert again.invitation.pk == issued.invitation.pk and again.token != issued.token
    assert invitation_of(alpha.storefront, "kim@example.com").role == "staff"
