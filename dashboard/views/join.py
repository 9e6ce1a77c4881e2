"""The page an invitation's email links to, /join/<token>/, where the invited address's reader
becomes a member.

Outside /app/<slug>/ (config/urls.py), since that reader is no member yet and may have no
account. Only they have the link (it was emailed to the address and is shown nowhere else), so
the page may say what the inviter must not learn: whether the address has an account.
- No account yet (or one made without a password): reading the email proves the address is
  theirs, so they choose the account's password here, and join.
- An account with a password: the link alone is not enough, as it is no password. They sign in
  to that account, then accept; anyone else signed in is refused.
A token that is not an open invitation's (forged, replaced by a resend, revoked, used,
expired) is a 404 that changes nothing.

As Django's password reset does, the first visit puts the token in the session and redirects to
/join/accept/, so the live token is in no later URL: not in the browser's history, a Referer, or
the log lines of the 4xx answers below (a wrong password, someone else signed in).
"""

from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from storefront_settings import selectors
from storefront_settings.models import Invitation
from storefront_settings.services import members

SESSION_KEY = "_invitation_token"
IN_SESSION = "accept"  # the URL's token once the real one is in the session


def _not_open(request):
    return render(request, "dashboard/join/invalid.html", status=404)


def _joined(request, membership):
    request.session.pop(SESSION_KEY, None)
    return redirect("dashboard:storefront", slug=membership.storefront.slug)


def _choose_password(request, token: str, invitation: Invitation, account):
    user = account or get_user_model()(username=invitation.email, email=invitation.email)
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            membership = members.accept_invitation_with_password(
                token=token, password=form.cleaned_data["new_password1"]
            )
        except members.InvitationNotOpen:
            return _not_open(request)
        except members.PasswordNeeded:
            # The account got a password since the page was shown: sign in to accept.
            return redirect(request.path)
        except ValidationError as error:
            form.add_error("new_password2", error)
        else:
            # The backend that checks passwords (axes' own, listed first, only refuses).
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            return _joined(request, membership)
    return render(
        request,
        "dashboard/join/password.html",
        {"invitation": invitation, "form": form},
        status=400 if form.is_bound else 200,
    )


def _accept(request, token: str, invitation: Invitation, account):
    user = request.user
    if request.method == "POST" and user.is_authenticated:
        try:
            membership = members.accept_invitation(token=token, user=user)
        except members.InvitationNotOpen:
            return _not_open(request)
        except members.WrongAccount:
            pass  # the page below says whose invitation it is, with a 403
        else:
            return _joined(request, membership)
    signed_in_as_invitee = user.is_authenticated and user.pk == account.pk
    refused = request.method == "POST"  # not signed in, or signed in as someone else
    return render(
        request,
        "dashboard/join/accept.html",
        {
            "invitation": invitation,
            "signed_in_as_invitee": signed_in_as_invitee,
            # Signing in keeps the session, and so the token, for the way back here.
            "login_url": reverse("login") + "?" + urlencode({"next": request.path}),
        },
        status=403 if refused else 200,
    )


@never_cache  # each answer depends on an invitation that may change at any moment
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def join(request, token):
    if token != IN_SESSION:
        if selectors.open_invitation(token=token) is None:
            return _not_open(request)
        request.session[SESSION_KEY] = token
        return redirect("join", token=IN_SESSION)
    token = request.session.get(SESSION_KEY, "")
    # Checked again on every request: revoked, resent or accepted since, it is dead here too.
    invitation = selectors.open_invitation(token=token) if token else None
    if invitation is None:
        return _not_open(request)
    account = selectors.invited_account(invitation=invitation)
    if account is None or not account.has_usable_password():
        return _choose_password(request, token, invitation, account)
    return _accept(request, token, invitation, account)
