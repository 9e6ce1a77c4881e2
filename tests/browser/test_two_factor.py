"""Two-factor login in a real browser: a member sets up an authenticator from the QR code's
key, keeps the recovery codes, then logs in again with a code. Screenshots of each page."""

from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_sets_up_two_factor_and_logs_in_with_a_code(
    page, make_tenant, log_in, screenshot, fresh_cache
):
    alpha = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    log_in(alpha.owner)
    page.goto("/app/alpha/settings/two-factor/")
    page.get_by_role("button", name="Set up two-factor login").click()
    expect(page.locator(".qr svg")).to_be_visible()
    screenshot(page, "two-factor-setup")
    # The key as the page shows it, typed into an "app" (what a phone computes from it).
    key = b32decode(page.locator("li code").first.inner_text().replace(" ", ""))
    page.get_by_label("Code").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Turn on two-factor login").click()
    expect(page.locator(".recovery-codes code")).to_have_count(10)
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "two-factor-recovery-codes")

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill(alpha.owner.username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/login/code/")
    screenshot(page, "login-code")
    # The next time step's code: the one just used for the setup is not accepted twice. "Next"
    # as the device counts: when the setup's code reached the server in the step after the
    # one it was made in, django-otp keeps that drift (-1), and a plain drift=1 would then be
    # two steps ahead of the server, out of its tolerance.
    device = TOTPDevice.objects.get(user=alpha.owner, confirmed=True)
    page.get_by_label("Code").fill(f"{totp(key, drift=device.drift + 1):06d}")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/app/alpha/")
