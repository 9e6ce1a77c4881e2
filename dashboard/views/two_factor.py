"""Two-factor login: each member's own page (My two-factor login) and the storefront's
requirement (Security, changed by owners).

A member's authenticator belongs to their account, not to one storefront: the page is reached
from any of their storefronts and serves them all. Its POSTs change only the member's own
devices, so a viewer may make them too (like My alerts), and they stay reachable while the
storefront requires two-factor and the member has not set it up (member_view sends them here).
Pages that show a secret (the QR code while setting up, recovery codes) are never cached."""

from base64 import b32encode

import segno
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp import login as otp_login

from dashboard.access import member_view
from dashboard.forms.two_factor import CodeForm, SecurityForm
from dashboard.views.settings import _edit_page, _fresh_storefront, _posted
from dashboard.views.team import _is_owner, _require_owner
from storefront_settings import two_factor
from storefront_settings.models import Membership
from storefront_settings.services import storefronts

own_page = member_view(viewers_may_post=True, before_two_factor=True)


def _page(request, *, status=200, **context):
    user = request.user
    device = two_factor.authenticator(user=user)
    return render(
        request,
        "dashboard/settings/two_factor.html",
        {
            "storefront": request.storefront,
            "device": device,
            "verified": user.is_verified(),
            "codes_left": two_factor.recovery_codes_left(user=user) if device else 0,
            # One form per action, each with ids of its own on the page.
            "form": CodeForm(user),
            "codes_form": CodeForm(user, auto_id="codes_%s"),
            "off_form": CodeForm(user, auto_id="off_%s"),
            **context,
        },
        status=status,
    )


def _setup_page(request, device, *, form=None, status=200):
    """The new secret as a QR code, as text and as the otpauth:// link, and the form for the
    app's first code."""
    uri = device.config_url
    secret = b32encode(device.bin_key).decode()
    return _page(
        request,
        status=status,
        setup={
            "qr": segno.make(uri, error="m").svg_inline(scale=4, light="#fff", title=_("QR code")),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "uri": uri,
        },
        form=form or CodeForm(request.user),
    )


@member_view(before_two_factor=True)
@require_safe
def page(request):
    return _page(request)


@require_POST
@never_cache
@own_page
def start(request):
    if two_factor.authenticator(user=request.user) is not None:
        messages.info(request, _("Two-factor login is already on."))
        return redirect("dashboard:settings-two-factor", slug=request.storefront.slug)
    return _setup_page(request, two_factor.start_authenticator(user=request.user))


@require_POST
@never_cache
@sensitive_post_parameters("otp_token")
@own_page
def confirm(request):
    user = request.user
    device = two_factor.pending_authenticator(user=user)
    if device is None:
        messages.error(request, _("Start the setup again: nothing is waiting for a code."))
        return redirect("dashboard:settings-two-factor", slug=request.storefront.slug)
    form = CodeForm(user, request.POST, device=device)
    if not form.is_valid():
        return _setup_page(request, device, form=form, status=400)
    codes = two_factor.confirm_authenticator(user=user, device=form.verified)
    otp_login(request, form.verified)  # this session has just given a code
    request.two_factor_missing = False
    messages.success(request, _("Two-factor login is on."))
    # Shown in this response only, like a new API key.
    return _page(request, new_codes=codes, status=201)


@require_POST
@sensitive_post_parameters("otp_token")
@own_page
def verify(request):
    """A member with an authenticator whose session has not given a code (set up since they
    logged in, or by ops) gives one here."""
    form = CodeForm(request.user, request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    otp_login(request, form.verified)
    messages.success(request, _("Thank you: this session is confirmed."))
    return redirect("dashboard:storefront", slug=request.storefront.slug)


@require_POST
@never_cache
@sensitive_post_parameters("otp_token")
@own_page
def renew_codes(request):
    form = CodeForm(request.user, request.POST, auto_id="codes_%s")
    if two_factor.authenticator(user=request.user) is None or not form.is_valid():
        return _page(request, codes_form=form, status=400)
    codes = two_factor.renew_recovery_codes(user=request.user)
    return _page(request, new_codes=codes, status=201)


@require_POST
@sensitive_post_parameters("otp_token")
@own_page
def turn_off(request):
    user = request.user
    form = CodeForm(user, request.POST, auto_id="off_%s")
    requiring = two_factor.storefronts_requiring_two_factor(user=user)
    if requiring:
        names = ", ".join(storefront.name for storefront in requiring)
        form.add_error(
            None,
            _("%(names)s requires two-factor login from its members: it stays on.")
            % {"names": names},
        )
        return _page(request, off_form=form, status=400)
    if not form.is_valid():
        return _page(request, off_form=form, status=400)
    two_factor.turn_off_two_factor(user=user)
    messages.success(request, _("Two-factor login is off."))
    return redirect("dashboard:settings-two-factor", slug=request.storefront.slug)


@require_http_methods(["GET", "HEAD", "POST"])
@member_view
def security(request):
    if request.method == "POST":
        _require_owner(request)  # staff may change settings, not who must use two-factor
    current = request.storefront
    form = SecurityForm(
        _posted(request), instance=_fresh_storefront(current), verified=request.user.is_verified()
    )
    members = (
        Membership.objects.for_storefront(current).select_related("user").order_by("user__email")
    )
    with_two_factor = two_factor.members_with_two_factor(storefront=current)
    return _edit_page(
        request,
        form=form,
        save=lambda values: storefronts.update_security(
            storefront=current, actor=request.user, values=values
        ),
        template="dashboard/settings/security.html",
        url_name="settings-security",
        editable=_is_owner(request),
        members=[(member, member.user_id in with_two_factor) for member in members],
    )


urlpatterns = [
    path("settings/two-factor/", page, name="settings-two-factor"),
    path("settings/two-factor/start/", start, name="settings-two-factor-start"),
    path("settings/two-factor/confirm/", confirm, name="settings-two-factor-confirm"),
    path("settings/two-factor/verify/", verify, name="settings-two-factor-verify"),
    path("settings/two-factor/recovery-codes/", renew_codes, name="settings-two-factor-codes"),
    path("settings/two-factor/turn-off/", turn_off, name="settings-two-factor-off"),
    path("settings/security/", security, name="settings-security"),
]
