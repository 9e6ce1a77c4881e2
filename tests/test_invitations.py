"""Member invitations, attacked through the real URLs: the link is the invitee's alone, it
grants nothing until its reader accepts, and the inviter learns nothing about the address."""

import re
import secrets
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from notifications.models import Message
from storefront_settings.models import AuditLog, Invitation, Membership
from tests.conftest import PASSWORD as FACTORY_PASSWORD
from tests.factories import MembershipFactory, UserFactory
from tests.invitation_helpers import (
    ACCEPT,
    PASSWORD,
    choose_password,
    emailed_link,
    invite,
    open_link,
    send_emails,
    token_of,
)

User = get_user_model()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def invitation_of(storefront, email) -> Invitation:
    return Invitation.objects.for_storefront(storefront).get(email=email)


def is_member(storefront, email) -> bool:
    return (
        Membership.objects.for_storefront(storefront).filter(user__username__iexact=email).exists()
    )


def readable_by_members(client, slug, message, api_key) -> dict[str, str]:
    """Every page and API answer where a member (or the API key's holder) reads a message."""
    pages = {
        "members": f"/app/{slug}/settings/members/",
        "audit": f"/app/{slug}/settings/audit/",
        "log": f"/app/{slug}/messages/",
        "log filtered": f"/app/{slug}/messages/?kind=member_invitation",
        "message": f"/app/{slug}/messages/{message.pk}/",
        "preview": f"/app/{slug}/messages/{message.pk}/preview/",
    }
    seen = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        seen[name] = response.content.decode()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api_key}"}
    for url in ("/api/v1/messages/", f"/api/v1/messages/{message.pk}/"):
        response = client.get(url, **auth)
        assert response.status_code == 200, url
        seen[url] = response.content.decode()
    return seen


def message_row(message) -> str:
    message.refresh_from_db()
    return " ".join(
        [message.subject, message.body_text, message.body_html, str(message.context)]
        + [str(message.sealed)]
    )


# --- The takeover of another shop's address -----------------------------------------------------


@pytest.mark.django_db
def test_an_owner_cannot_take_over_another_shops_address_by_inviting_it(
    two_storefronts, fresh_cache
):
    alpha, bravo = two_storefronts
    target = "compta@shop-b.fr"
    attacker = signed_in(alpha.owner)

    # Alpha's owner invites Bravo's accountant, then reads everything the dashboard gives back.
    response = invite(attacker, "alpha", target)
    assert response.status_code == 302
    answers = [attacker.get(response.url).content.decode()]
    message = Message.objects.for_storefront(alpha.storefront).get(to=target)
    queued = readable_by_members(attacker, "alpha", message, alpha.raw_api_key)
    link = emailed_link(target)  # what only the mailbox's reader has
    token = token_of(link)
    sent = readable_by_members(attacker, "alpha", message, alpha.raw_api_key)
    for name, body in [*queued.items(), *sent.items(), ("invite answer", answers[0])]:
        assert token not in body, name
        assert "/join/" not in body, name
    assert token not in message_row(message)
    # No account was made by the invitation: there is no password for the inviter to set.
    assert not User.objects.filter(username__iexact=target).exists()
    assert not is_member(alpha.storefront, target)

    # The attacker withdraws the invitation and waits for Bravo.
    invitation = invitation_of(alpha.storefront, target)
    attacker.post(f"/app/alpha/settings/members/invitations/{invitation.pk}/revoke/")
    assert Client().get(link).status_code == 404

    # Bravo invites the same address: still nothing is granted until it is accepted.
    assert invite(signed_in(bravo.owner), "bravo", target).status_code == 302
    assert not User.objects.filter(username__iexact=target).exists()
    assert not is_member(bravo.storefront, target)
    bravo_link = emailed_link(target)
    assert bravo_link != link
    # Alpha's dead link cannot be used to join anything either.
    assert choose_password(Client(), link, "attackers-choice-99").status_code == 404
    assert not User.objects.filter(username__iexact=target).exists()

    # The accountant accepts Bravo's invitation from the email, choosing their password.
    accountant = Client()
    assert choose_password(accountant, bravo_link).url == "/app/bravo/"
    assert is_member(bravo.storefront, target) and not is_member(alpha.storefront, target)

    # Alpha's owner cannot sign in as the address, nor reach Bravo from their own session.
    anonymous = Client()
    for guess in ("attackers-choice-99", PASSWORD + "!"):
        response = anonymous.post("/login/", {"username": target, "password": guess})
        assert response.status_code == 200  # the form again, not a redirect into the app
    assert anonymous.get("/app/bravo/").status_code == 302  # to the login page
    assert attacker.get("/app/bravo/").status_code == 404
    # The old set-password link format is gone, even with a valid password-reset token.
    account = User.objects.get(username=target)
    uid = urlsafe_base64_encode(force_bytes(account.pk))
    old_style = f"/join/{uid}/{default_token_generator.make_token(account)}/"
    assert anonymous.get(old_style).status_code == 404
    account.refresh_from_db()
    assert account.check_password(PASSWORD)


@pytest.mark.django_db
def test_an_account_someone_else_holds_gets_nothing_from_an_invitation_it_cannot_read(
    two_storefronts,
):
    # The takeover's other half: an account with the address exists (say its password is
    # known to Alpha's owner). Bravo's invitation to the address no longer adds it.
    alpha, bravo = two_storefronts
    held = UserFactory(username="compta@shop-b.fr", email="compta@shop-b.fr")
    assert invite(signed_in(bravo.owner), "bravo", held.email).status_code == 302
    assert not is_member(bravo.storefront, held.email)
    holder = signed_in(held)
    assert holder.get("/app/bravo/").status_code == 404
    # Without the emailed token, no URL joins Bravo.
    for forged in (secrets.token_urlsafe(32), "x", "0" * 43):
        assert holder.get(f"/join/{forged}/").status_code == 404
        assert holder.post(f"/join/{forged}/").status_code == 404
    assert not is_member(bravo.storefront, held.email)


# --- Who can read the link -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_viewer_cannot_read_the_link_in_the_emails_log_the_api_or_the_preview(
    two_storefronts, ops
):
    alpha, _ = two_storefronts
    viewer = MembershipFactory(storefront=alpha.storefront, role=Membership.Role.VIEWER).user
    invite(signed_in(alpha.owner), "alpha", "nina@example.com", role="owner")
    message = Message.objects.for_storefront(alpha.storefront).get(to="nina@example.com")
    reader = signed_in(viewer)
    # Scheduled, the preview is written now from the stored context: the placeholder only.
    queued = readable_by_members(reader, "alpha", message, alpha.raw_api_key)
    assert "[hidden]" in queued["message"] and "[hidden]" in queued["preview"]
    token = token_of(emailed_link("nina@example.com"))
    sent = readable_by_members(reader, "alpha", message, alpha.raw_api_key)
    assert "[hidden]" in sent["message"] and "[hidden]" in sent["preview"]
    for name, body in [*queued.items(), *sent.items()]:
        assert token not in body, name
    # Nor in the row itself, nor in admin (ops).
    assert token not in message_row(message)
    admin_page = ops.get(reverse("admin:notifications_message_change", args=[message.pk]))
    assert admin_page.status_code == 200 and token not in admin_page.content.decode()
    invitation = invitation_of(alpha.storefront, "nina@example.com")
    admin_page = ops.get(
        reverse("admin:storefront_settings_invitation_change", args=[invitation.pk])
    )
    assert admin_page.status_code == 200
    assert token not in admin_page.content.decode()
    assert invitation.token_hash not in admin_page.content.decode()
    assert token not in str(list(AuditLog.objects.for_storefront(alpha.storefront).values()))
    # The viewer can neither resend (a new email they cannot read either) nor revoke it.
    base = f"/app/alpha/settings/members/invitations/{invitation.pk}"
    assert reader.post(f"{base}/resend/").status_code == 403
    assert reader.post(f"{base}/revoke/").status_code == 403


# --- What the inviter learns ---------------------------------------------------------------------

# What differs between two rows of the list whatever the address: the time, the id, the form's
# CSRF token.
VARYING = [
    (re.compile(r"\d{1,2} \w{3} \d{4} \d{2}:\d{2}"), "WHEN"),
    (re.compile(r"/invitations/\d+/"), "/invitations/ID/"),
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), "CSRF"),
]


def invitation_row(page: str, email: str) -> str:
    row = next(row for row in re.findall(r"<tr>.*?</tr>", page, re.DOTALL) if email in row)
    row = row.replace(email, "ADDRESS")
    for pattern, replacement in VARYING:
        row = pattern.sub(replacement, row)
    return row


@pytest.mark.django_db
def test_the_inviter_gets_the_same_answer_for_an_address_with_an_account_and_without(
    client, two_storefronts
):
    alpha, bravo = two_storefronts
    client.force_login(alpha.owner)
    existing, new = bravo.owner.email, "nobody-yet@example.com"
    assert User.objects.filter(username=existing).exists()
    answers = []
    for address in (existing, new):
        response = invite(client, "alpha", address)
        page = client.get(response.url)
        flashes = [str(flash).replace(address, "ADDRESS") for flash in page.context["messages"]]
        answers.append((response.status_code, response.url, flashes))
    assert answers[0] == answers[1]
    assert answers[0][0] == 302 and len(answers[0][2]) == 1

    page = client.get("/app/alpha/settings/members/").content.decode()
    assert invitation_row(page, existing) == invitation_row(page, new)
    details = [
        {**row.detail, "email": "ADDRESS"}
        for row in AuditLog.objects.for_storefront(alpha.storefront).filter(action="member.invited")
    ]
    assert details[0] == details[1] and set(details[0]) == {"email", "role"}
    # The emails, which the inviter can read in the log, say the same words to both.
    send_emails()
    to_existing, to_new = (
        Message.objects.for_storefront(alpha.storefront).get(to=address)
        for address in (existing, new)
    )
    assert to_existing.context == to_new.context
    for part in ("subject", "body_text", "body_html"):
        assert getattr(to_existing, part).replace(existing, "ADDRESS") == getattr(
            to_new, part
        ).replace(new, "ADDRESS")
    assert to_existing.locale == to_new.locale == alpha.storefront.language


# --- Links that must not work -------------------------------------------------------------------


def state():
    return (
        User.objects.count(),
        list(Membership.unscoped.values_list("pk", "role").order_by("pk")),
        list(Invitation.unscoped.values_list("pk", "accepted_at", "revoked_at").order_by("pk")),
        AuditLog.unscoped.count(),
    )


def refused(link: str) -> None:
    """Opening the link and choosing a password there: a 404 that changes nothing."""
    before = state()
    visitor = Client()
    page = visitor.get(link)
    assert page.status_code == 404
    assert "This link is not valid" in page.content.decode()
    assert choose_password(visitor, link).status_code == 404
    assert visitor.post(link).status_code == 404
    assert state() == before


@pytest.mark.django_db
def test_forged_replaced_revoked_expired_and_used_links_grant_nothing(two_storefronts):
    alpha, _ = two_storefronts
    owner = signed_in(alpha.owner)
    refused(f"/join/{secrets.token_urlsafe(32)}/")

    invite(owner, "alpha", "nina@example.com")
    first = emailed_link("nina@example.com")
    token = token_of(first)
    refused(f"/join/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}/")  # one character changed
    invitation = invitation_of(alpha.storefront, "nina@example.com")
    actions = f"/app/alpha/settings/members/invitations/{invitation.pk}"

    # Resent: a new token; the first email's link is dead, the new one works.
    response = owner.post(f"{actions}/resend/", follow=True)
    assert "the link sent before no longer works" in response.content.decode()
    second = emailed_link("nina@example.com")
    assert second != first
    refused(first)
    reader = Client()
    assert open_link(reader, second).status_code == 200
    resent = AuditLog.objects.for_storefront(alpha.storefront).get(action="invitation.resent")
    assert resent.actor == alpha.owner and resent.detail == {"email": "nina@example.com"}

    # Revoked: dead, and no email of it is left to go.
    owner.post(f"{actions}/revoke/")
    refused(second)
    # Revoked while its page was open: choosing a password there now does nothing either.
    before = state()
    response = reader.post(ACCEPT, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 404 and state() == before
    assert not Message.objects.for_storefront(alpha.storefront).filter(status="scheduled").exists()

    # Expired: three days after it was sent.
    invite(owner, "alpha", "omar@example.com")
    link = emailed_link("omar@example.com")
    omar = Invitation.objects.for_storefront(alpha.storefront).filter(email="omar@example.com")
    row = omar.get()
    assert row.expires_at - row.sent_at == timedelta(days=3)

    def age(by):
        # As if it had been sent `by` ago: the stored times move back, the clock stays.
        omar.update(sent_at=row.sent_at - by, expires_at=row.expires_at - by)

    age(timedelta(days=3) - timedelta(minutes=1))
    assert open_link(Client(), link).status_code == 200
    age(timedelta(days=3) + timedelta(minutes=1))
    refused(link)
    assert "expired" in owner.get("/app/alpha/settings/members/").content.decode()
    # The owner resends it: three new days, a new link that works once.
    owner.post(f"/app/alpha/settings/members/invitations/{row.pk}/resend/")
    renewed = emailed_link("omar@example.com")
    visitor = Client()
    assert choose_password(visitor, renewed).url == "/app/alpha/"
    assert is_member(alpha.storefront, "omar@example.com")
    # Used.
    refused(renewed)
    assert Client().get(renewed).status_code == 404


@pytest.mark.django_db
def test_another_storefronts_invitation_cannot_be_resent_or_revoked(two_storefronts):
    alpha, bravo = two_storefronts
    invite(signed_in(bravo.owner), "bravo", "nina@example.com")
    theirs = invitation_of(bravo.storefront, "nina@example.com")
    before = state(), Message.unscoped.count()
    owner = signed_in(alpha.owner)
    for action in ("resend", "revoke"):
        for slug in ("alpha", "bravo"):
            url = f"/app/{slug}/settings/members/invitations/{theirs.pk}/{action}/"
            assert owner.post(url).status_code == 404, url
    assert (state(), Message.unscoped.count()) == before


# --- An existing account accepts, signed in as itself --------------------------------------------


@pytest.mark.django_db
def test_an_existing_account_joins_only_when_it_accepts_signed_in_as_itself(
    client, two_storefronts, fresh_cache, caplog
):
    alpha, bravo = two_storefronts
    invitee = bravo.owner
    invite(signed_in(alpha.owner), "alpha", invitee.email, role="viewer")
    link = emailed_link(invitee.email)

    # Not signed in: asked to sign in; posting (even a new password) changes nothing.
    page = open_link(client, link)
    assert page.status_code == 200
    body = page.content.decode()
    assert "already has an Aftersale account: log in to it to accept" in body
    assert "/login/?next=%2Fjoin%2Faccept%2F" in body
    assert client.post(ACCEPT).status_code == 403
    assert choose_password(client, link, "attackers-choice-99").status_code == 403
    invitee.refresh_from_db()
    assert invitee.check_password(FACTORY_PASSWORD)
    assert not is_member(alpha.storefront, invitee.email)

    # Signed in as someone else (a stranger, or Alpha's own owner): refused.
    for someone in (UserFactory(), alpha.owner):
        client.force_login(someone)
        page = open_link(client, link)
        assert f"Only {invitee.email} can accept this invitation" in page.content.decode()
        assert client.post(ACCEPT).status_code == 403
        assert not is_member(alpha.storefront, invitee.email)
    assert not AuditLog.objects.for_storefront(alpha.storefront).filter(action="member.joined")

    # The invitee opens the link, signs in through the login page it points to (the session,
    # and the token in it, survive signing in), comes back, and accepts.
    client.logout()
    open_link(client, link)
    response = client.post(
        "/login/", {"username": invitee.email, "password": FACTORY_PASSWORD, "next": ACCEPT}
    )
    assert response.status_code == 302 and response.url == ACCEPT
    assert not is_member(alpha.storefront, invitee.email)  # signing in is not accepting
    assert "Accept the invitation" in client.get(ACCEPT).content.decode()
    response = client.post(ACCEPT)
    assert response.status_code == 302 and response.url == "/app/alpha/"
    membership = Membership.objects.for_storefront(alpha.storefront).get(user=invitee)
    assert membership.role == "viewer"
    joined = AuditLog.objects.for_storefront(alpha.storefront).get(action="member.joined")
    assert joined.actor == invitee
    # The refusals above were logged (Django logs every 4xx) without the token, live then.
    assert "Forbidden: /join/accept/" in caplog.text
    assert token_of(link) not in caplog.text
    assert client.get("/app/alpha/").status_code == 200
    assert client.get(link).status_code == 404  # used
    assert client.get(ACCEPT).status_code == 404


@pytest.mark.django_db
def test_the_invitation_email_is_in_the_storefronts_language(two_storefronts):
    alpha, bravo = two_storefronts
    bravo.storefront.language = "en"
    bravo.storefront.save()
    invite(signed_in(alpha.owner), "alpha", "nina@example.com")
    invite(signed_in(bravo.owner), "bravo", "nina@example.com")
    send_emails()
    locales = dict(
        Message.unscoped.filter(kind="member_invitation").values_list("storefront__slug", "locale")
    )
    assert locales == {"alpha": "fr", "bravo": "en"}
    english = Message.objects.for_storefront(bravo.storefront).get(kind="member_invitation")
    assert english.subject == "Invitation to join Bravo on Aftersale"
    assert f"{bravo.owner.email} invited you to join the team of Bravo" in english.body_text


# --- Ops revoke from admin ----------------------------------------------------------------------


@pytest.mark.django_db
def test_ops_revoke_an_invitation_from_admin_as_the_owner_would(ops, two_storefronts):
    alpha, _ = two_storefronts
    invite(signed_in(alpha.owner), "alpha", "late@example.com")
    invitation = invitation_of(alpha.storefront, "late@example.com")
    email = Message.objects.for_storefront(alpha.storefront).get(kind="member_invitation")
    assert email.status == Message.Status.SCHEDULED
    response = ops.post(
        reverse("admin:storefront_settings_invitation_changelist"),
        {"action": "revoke", "_selected_action": [invitation.pk]},
    )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    row = AuditLog.objects.for_storefront(alpha.storefront).get(action="invitation.revoked")
    assert row.detail == {"email": "late@example.com"} and row.actor.is_superuser
    # The email not sent yet is cancelled with it, as on the members page.
    email.refresh_from_db()
    assert email.status == Message.Status.CANCELLED
