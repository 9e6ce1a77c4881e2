"""Two-factor login (django-otp): the admin with DEBUG off, `enroll_totp`, the login's second
step, a member's own two-factor page and the storefront's requirement.

Codes are real TOTP codes, computed from the device's key with django_otp.oath.totp."""

import io
import re
import subprocess
import sys
from base64 import b32decode
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from storefront_settings import two_factor
from storefront_settings.models import AuditLog, Membership
from tests.conftest import PASSWORD, verify_session
from tests.factories import MembershipFactory

User = get_user_model()
ADMIN_LOGIN = "/admin/login/"
WRONG = "This code is not right."


def code(device, ahead=0) -> str:
    """The device's code now, or `ahead` time steps later: a code is accepted once, so a test
    that gives two uses the next step's for the second (the device allows one step of drift)."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + ahead)
    return f"{value:0{device.digits}d}"


def enrolled(user):
    """The user with an authenticator and recovery codes, as turning it on leaves them."""
    device = two_factor.start_authenticator(user=user)
    codes = two_factor.confirm_authenticator(user=user, device=device)
    device.refresh_from_db()
    return device, codes


def verified(client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("ops@example.com", "ops@example.com", PASSWORD)


# --- The admin ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_refuses_a_session_without_a_second_factor(client, staff):
    enrolled(staff)
    client.force_login(staff)  # a password, no code
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith(ADMIN_LOGIN)
    page = client.get(response.url)
    assert page.status_code == 200
    assert 'name="otp_token"' in page.content.decode()
    # The admin's own login with the right password but no code: still refused.
    refused = client.post(ADMIN_LOGIN, {"username": staff.username, "password": PASSWORD})
    assert refused.status_code == 200
    assert "Enter the code." in refused.content.decode()
    assert PASSWORD not in refused.content.decode()  # the password is not sent back
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_the_admin_lets_in_the_right_password_with_a_valid_code(client, staff, fresh_cache):
    device, _ = enrolled(staff)
    response = client.post(
        ADMIN_LOGIN,
        {"username": staff.username, "password": PASSWORD, "otp_token": code(device)},
    )
    assert response.status_code == 302
    assert verified(client)
    assert client.get("/admin/").status_code == 200
    listing = client.get(reverse("admin:storefront_settings_storefront_changelist"))
    assert listing.status_code == 200


@pytest.mark.django_db
def test_the_admin_refuses_a_wrong_code_and_throttles_the_next(client, staff, fresh_cache):
    device, _ = enrolled(staff)
    right = code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    form = {"username": staff.username, "password": PASSWORD}
    response = client.post(ADMIN_LOGIN, {**form, "otp_token": wrong})
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert not verified(client) and client.get("/admin/").status_code == 302
    # Right after a wrong code, even the right one waits (django-otp's throttling)...
    throttled = client.post(ADMIN_LOGIN, {**form, "otp_token": right})
    assert "Too many wrong codes" in throttled.content.decode()
    assert client.get("/admin/").status_code == 302
    # ...until the delay after one failure (a second) has passed.
    device.refresh_from_db()
    device.throttling_failure_timestamp -= timedelta(seconds=2)
    device.save()
    assert client.post(ADMIN_LOGIN, {**form, "otp_token": right}).status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_with_debug_on_the_admin_needs_no_second_factor(client, staff, settings):
    settings.DEBUG = True
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    client.logout()
    page = client.get(ADMIN_LOGIN)
    assert 'name="otp_token"' not in page.content.decode()
    response = client.post(ADMIN_LOGIN, {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_admin_pages_never_show_a_key_or_a_recovery_code(ops):
    user = User.objects.create_user("member@example.com", "member@example.com", PASSWORD)
    device, codes = enrolled(user)
    static = StaticDevice.objects.get(user=user)
    secret = b32decode(parse_qs(urlparse(device.config_url).query)["secret"][0])
    pages = [
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        reverse("admin:otp_static_staticdevice_changelist"),
        reverse("admin:otp_static_staticdevice_change", args=[static.pk]),
    ]
    for page in pages:
        response = ops.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        assert device.key not in body and secret.hex() not in body
        assert not any(recovery in body for recovery in codes)
    qr = reverse("admin:otp_totp_totpdevice_config", args=[device.pk])
    assert ops.get(qr).status_code == 403


# --- manage.py enroll_totp ----------------------------------------------------------------------


@pytest.mark.django_db
def test_enroll_totp_prints_a_uri_whose_codes_open_the_admin(client, staff, fresh_cache):
    out = io.StringIO()
    call_command("enroll_totp", "--user", "OPS@example.com", stdout=out)
    printed = out.getvalue()
    uri = re.search(r"^otpauth://totp/\S+$", printed, re.MULTILINE).group(0)
    assert uri.startswith("otpauth://totp/Aftersale%3Aops%40example.com?")
    assert parse_qs(urlparse(uri).query)["issuer"] == ["Aftersale"]
    codes = re.findall(r"^  ([a-z2-7]{8})$", printed, re.MULTILINE)
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    # What an authenticator app computes from the URI's secret opens the admin.
    key = b32decode(parse_qs(urlparse(uri).query)["secret"][0])
    app_code = f"{totp(key):06d}"
    response = client.post(
        ADMIN_LOGIN, {"username": staff.username, "password": PASSWORD, "otp_token": app_code}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("nobody@example.com", "no single user with the username 'nobody@example.com'"),
        ("member@example.com", "member@example.com is not active staff"),
        ("ops@example.com", "ops@example.com already has an authenticator; add --replace"),
    ],
)
def test_enroll_totp_refuses_bad_input_and_writes_nothing(staff, user, message):
    User.objects.create_user("member@example.com", "member@example.com", PASSWORD)
    device, _ = enrolled(staff)
    with pytest.raises(CommandError) as raised:
        call_command("enroll_totp", "--user", user, stdout=io.StringIO())
    assert message in str(raised.value)
    assert raised.value.returncode == 2
    assert list(TOTPDevice.objects.values_list("pk", flat=True)) == [device.pk]
    assert StaticToken.objects.count() == 10


@pytest.mark.django_db
def test_enroll_totp_replaces_the_old_authenticator_when_asked(staff):
    old, _ = enrolled(staff)
    call_command("enroll_totp", "--user", "ops@example.com", "--replace", stdout=io.StringIO())
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).count() == 1


def test_enroll_totp_without_its_argument_is_one_line_on_stderr_and_exit_2():
    from pathlib import Path

    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "enroll_totp"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "the following arguments are required: --user" in lines[0]


# --- The login's second step --------------------------------------------------------------------


@pytest.fixture
def member(two_storefronts):
    alpha, _ = two_storefronts
    device, codes = enrolled(alpha.owner)
    return alpha, device, codes


def password_step(client, user, **extra):
    return client.post(
        reverse("login") + extra.pop("query", ""),
        {"username": user.username, "password": PASSWORD},
        **extra,
    )


@pytest.mark.django_db
def test_a_member_with_an_authenticator_gives_a_code_after_the_password(
    client, member, fresh_cache
):
    alpha, device, _ = member
    response = password_step(client, alpha.owner)
    assert response.status_code == 302 and response.url == reverse("login-code")
    # Not logged in yet: nothing of the storefront opens.
    assert not logged_in(client)
    assert client.get(reverse("dashboard:storefront", args=["alpha"])).status_code == 302
    page = client.get(reverse("login-code"))
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.content.decode()
    response = client.post(reverse("login-code"), {"otp_token": code(device)}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:storefront", args=["alpha"])
    assert logged_in(client) and verified(client)


@pytest.mark.django_db
def test_a_wrong_code_at_login_is_refused_and_throttles_the_next(client, member, fresh_cache):
    alpha, device, _ = member
    right = code(device)
    password_step(client, alpha.owner)
    response = client.post(
        reverse("login-code"), {"otp_token": "000000" if right != "000000" else "111111"}
    )
    assert response.status_code == 400
    assert WRONG in response.content.decode()
    assert not logged_in(client)
    throttled = client.post(reverse("login-code"), {"otp_token": right})
    assert throttled.status_code == 400
    assert "Too many wrong codes" in throttled.content.decode()
    assert not logged_in(client)


@pytest.mark.django_db
def test_a_recovery_code_logs_in_once(client, member, fresh_cache):
    alpha, _, codes = member
    password_step(client, alpha.owner)
    # As a person may type it: upper case, in two groups.
    typed = f"{codes[0][:4].upper()} {codes[0][4:].upper()}"
    assert client.post(reverse("login-code"), {"otp_token": typed}).status_code == 302
    assert logged_in(client) and verified(client)
    assert StaticToken.objects.filter(device__user=alpha.owner).count() == 9
    client.logout()
    password_step(client, alpha.owner)
    again = client.post(reverse("login-code"), {"otp_token": codes[0]})
    assert again.status_code == 400 and not logged_in(client)


@pytest.mark.django_db
def test_the_code_step_needs_a_recent_password(client, member, fresh_cache):
    alpha, device, _ = member
    # Nothing pending: back to the password.
    assert client.get(reverse("login-code")).url == reverse("login")
    password_step(client, alpha.owner)
    session = client.session
    session["login_pending_code"]["at"] -= 301
    session.save()
    response = client.post(reverse("login-code"), {"otp_token": code(device)})
    assert response.status_code == 302 and response.url == reverse("login")
    assert not logged_in(client)


@pytest.mark.django_db
def test_the_code_step_keeps_where_the_member_was_going(client, member, fresh_cache):
    alpha, device, _ = member
    target = reverse("dashboard:shipments", args=["alpha"])
    password_step(client, alpha.owner, query=f"?next={target}")
    assert client.post(reverse("login-code"), {"otp_token": code(device)}).url == target
    # Another site is never the target.
    client.logout()
    password_step(client, alpha.owner, query="?next=https://evil.example/")
    response = client.post(reverse("login-code"), {"otp_token": code(device, ahead=1)})
    assert response.status_code == 302 and "evil" not in response.url


@pytest.mark.django_db
def test_a_member_without_an_authenticator_logs_in_with_the_password(
    client, two_storefronts, fresh_cache
):
    alpha, _ = two_storefronts
    response = password_step(client, alpha.owner)
    assert response.status_code == 302 and logged_in(client) and not verified(client)


# --- A member's own page ------------------------------------------------------------------------


def url(name, slug="alpha"):
    return reverse(f"dashboard:settings-two-factor{name}", args=[slug])


@pytest.mark.django_db
def test_a_member_turns_on_two_factor_and_sees_the_recovery_codes_once(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    page = client.get(url(""))
    assert page.status_code == 200 and "Set up two-factor login" in page.content.decode()
    setup = client.post(url("-start"))
    assert setup.status_code == 200
    assert "no-store" in setup.headers["Cache-Control"]
    device = TOTPDevice.objects.get(user=alpha.owner)
    assert not device.confirmed
    body = setup.content.decode()
    assert "<svg" in body and "otpauth://totp/Aftersale%3A" in body
    secret = parse_qs(urlparse(device.config_url).query)["secret"][0]
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in body

    done = client.post(url("-confirm"), {"otp_token": code(device)})
    assert done.status_code == 201
    assert "no-store" in done.headers["Cache-Control"]
    codes = list(
        StaticToken.objects.filter(device__user=alpha.owner).values_list("token", flat=True)
    )
    assert len(codes) == 10 and all(c in done.content.decode() for c in codes)
    device.refresh_from_db()
    assert device.confirmed and verified(client)
    assert (
        AuditLog.objects.for_storefront(alpha.storefront)
        .filter(action="member.two_factor_enabled", actor=alpha.owner)
        .exists()
    )
    # Shown once: the page never shows them, nor the secret, again.
    later = client.get(url("")).content.decode()
    assert not any(c in later for c in codes) and secret not in later
    assert "10 recovery codes left" in later


@pytest.mark.django_db
def test_a_wrong_first_code_leaves_two_factor_off(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    client.post(url("-start"))
    response = client.post(url("-confirm"), {"otp_token": "12345"})
    assert response.status_code == 400
    assert WRONG in response.content.decode()
    assert "<svg" in response.content.decode()  # the QR code again, to try once more
    assert not two_factor.has_two_factor(alpha.owner)
    assert not verified(client)


@pytest.mark.django_db
def test_turning_off_takes_a_current_code(client, member):
    alpha, device, _ = member
    client.force_login(alpha.owner)
    wrong = client.post(url("-off"), {"otp_token": "abcdefgh"})
    assert wrong.status_code == 400 and WRONG in wrong.content.decode()
    assert two_factor.has_two_factor(alpha.owner)
    off = client.post(url("-off"), {"otp_token": code(device)})
    assert off.status_code == 302
    assert not two_factor.has_two_factor(alpha.owner)
    assert not StaticToken.objects.filter(device__user=alpha.owner).exists()
    assert (
        AuditLog.objects.for_storefront(alpha.storefront)
        .filter(action="member.two_factor_disabled")
        .exists()
    )


@pytest.mark.django_db
def test_new_recovery_codes_replace_the_old_ones(client, member):
    alpha, device, old = member
    client.force_login(alpha.owner)
    response = client.post(url("-codes"), {"otp_token": code(device)})
    assert response.status_code == 201 and "no-store" in response.headers["Cache-Control"]
    new = set(StaticToken.objects.filter(device__user=alpha.owner).values_list("token", flat=True))
    assert len(new) == 10 and not new & set(old)
    assert all(c in response.content.decode() for c in new)


@pytest.mark.django_db
def test_another_members_storefront_is_404_on_the_two_factor_pages(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    assert client.get(url("", "bravo")).status_code == 404
    assert client.post(url("-start", "bravo")).status_code == 404
    assert not TOTPDevice.objects.filter(user=alpha.owner).exists()


# --- The storefront's requirement ---------------------------------------------------------------


def require(tenant):
    tenant.storefront.require_two_factor = True
    tenant.storefront.save()


@pytest.mark.django_db
def test_a_storefront_requiring_two_factor_shows_nothing_to_a_member_without_it(
    client, two_storefronts
):
    alpha, bravo = two_storefronts
    require(alpha)
    # Alpha's owner is a viewer at Bravo, which does not require it.
    MembershipFactory(storefront=bravo.storefront, user=alpha.owner, role=Membership.Role.VIEWER)
    client.force_login(alpha.owner)
    pages = [
        reverse("dashboard:storefront", args=["alpha"]),
        reverse("dashboard:lost-sales", args=["alpha"]),
        reverse("dashboard:settings-members", args=["alpha"]),
        reverse("dashboard:settings-security", args=["alpha"]),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and response.url == url(""), page
    # A change is not made either.
    brand = client.post(reverse("dashboard:settings-brand", args=["alpha"]), {"name": "Hacked"})
    assert brand.status_code == 302
    alpha.storefront.refresh_from_db()
    assert alpha.storefront.name == "Alpha"
    # Their two-factor page opens, with nothing else of the storefront.
    page = client.get(url("")).content.decode()
    assert "asks every member to log in with a second factor" in page
    assert reverse("dashboard:lost-sales", args=["alpha"]) not in page
    # Bravo does not require it.
    assert client.get(reverse("dashboard:storefront", args=["bravo"])).status_code == 200
    # The API, with Alpha's key, is not concerned.
    api = client.get("/api/v1/storefront/", HTTP_AUTHORIZATION=f"Bearer {alpha.raw_api_key}")
    assert api.status_code == 200

    # Once set up, Alpha's pages open.
    client.post(url("-start"))
    device = TOTPDevice.objects.get(user=alpha.owner)
    assert client.post(url("-confirm"), {"otp_token": code(device)}).status_code == 201
    assert client.get(reverse("dashboard:storefront", args=["alpha"])).status_code == 200
    # And it cannot be turned off while Alpha requires it.
    off = client.post(url("-off"), {"otp_token": code(device, ahead=1)})
    assert off.status_code == 400
    assert "Alpha requires two-factor login" in off.content.decode()
    assert two_factor.has_two_factor(alpha.owner)


@pytest.mark.django_db
def test_a_session_from_before_the_authenticator_confirms_itself_with_a_code(client, member):
    alpha, device, _ = member
    require(alpha)
    client.force_login(alpha.owner)  # a password only
    assert client.get(reverse("dashboard:storefront", args=["alpha"])).url == url("")
    assert "Confirm this session" in client.get(url("")).content.decode()
    response = client.post(url("-verify"), {"otp_token": code(device)})
    assert response.status_code == 302
    assert client.get(reverse("dashboard:storefront", args=["alpha"])).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Membership.Role.VIEWER, Membership.Role.STAFF])
def test_only_an_owner_changes_the_requirement(client, two_storefronts, role):
    alpha, _ = two_storefronts
    other = MembershipFactory(storefront=alpha.storefront, role=role)
    device, _ = enrolled(other.user)
    client.force_login(other.user)
    verify_session(client, device)
    page = client.get(reverse("dashboard:settings-security", args=["alpha"]))
    assert page.status_code == 200
    response = client.post(
        reverse("dashboard:settings-security", args=["alpha"]), {"require_two_factor": "on"}
    )
    assert response.status_code == 403
    alpha.storefront.refresh_from_db()
    assert not alpha.storefront.require_two_factor
    assert (
        not AuditLog.objects.for_storefront(alpha.storefront)
        .filter(action="storefront.security_changed")
        .exists()
    )


@pytest.mark.django_db
def test_an_owner_requires_two_factor_once_they_use_it_themselves(client, two_storefronts):
    alpha, _ = two_storefronts
    security = reverse("dashboard:settings-security", args=["alpha"])
    client.force_login(alpha.owner)
    refused = client.post(security, {"require_two_factor": "on"})
    assert refused.status_code == 400
    assert "Turn on two-factor login for yourself first" in refused.content.decode()
    alpha.storefront.refresh_from_db()
    assert not alpha.storefront.require_two_factor

    device, _ = enrolled(alpha.owner)
    verify_session(client, device)
    assert client.post(security, {"require_two_factor": "on"}).status_code == 302
    alpha.storefront.refresh_from_db()
    assert alpha.storefront.require_two_factor
    entry = AuditLog.objects.for_storefront(alpha.storefront).get(
        action="storefront.security_changed"
    )
    assert entry.actor == alpha.owner
    assert entry.detail["changed"] == {"require_two_factor": {"from": False, "to": True}}
    # The owners see who has it.
    page = client.get(security).content.decode()
    assert alpha.owner.email in page and "badge good" in page
