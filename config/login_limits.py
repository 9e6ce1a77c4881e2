"""Failed logins, counted by django-axes on the cache (Redis), for /login/ and /admin/login/.

Two counters, each kept for a minute after its latest failure (settings.AXES_COOLOFF_TIME):
- per username and address, limit LOGIN_FAILURE_LIMIT_PER_USERNAME (5): guessing at one account
  from one address. No counter is per username alone: an attacker failing from anywhere must
  not lock the owner out of their own account from their own address.
- per address, limit AXES_FAILURE_LIMIT (10): spraying many usernames from one address, with
  room for an office behind one NAT.
Only failures count, and the limits are checked before the password is looked at, so a limited
attempt is refused even with the right password, with the same answer whether or not the
account exists."""

import unicodedata

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache, get_client_cache_keys, get_cool_off
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render


def normalised_username(request, credentials) -> str | None:
    """The username as the counters see it. Django's login form already applies NFKC (so
    'ｍｅｒｃｈａｎｔ@example.com' logs in as merchant@example.com); case and surrounding spaces
    must not buy a fresh budget either. The key is hashed by axes: no username sits in Redis."""
    if credentials and credentials.get("username") is not None:
        value = credentials["username"]
    else:
        value = request.POST.get("username")
    if value is None:
        return None
    folded = unicodedata.normalize("NFKC", str(value)).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


class LoginAttempts(AxesCacheHandler):
    """axes' cache handler with a limit of its own for the username-and-address counter, the
    first of settings.AXES_LOCKOUT_PARAMETERS; axes' single AXES_FAILURE_LIMIT is the
    address's. Counting stays axes' own."""

    def __init__(self):
        pass  # the cache is looked up at each use, below

    @property
    def cache(self):
        # Not kept from start-up: the cache settings a test overrides (tests/conftest.py's
        # fresh_cache) apply here too.
        return get_cache()

    def _username_failures(self, request, credentials) -> int:
        pair_key = get_client_cache_keys(request, credentials)[0]
        return self.cache.get(pair_key, default=0)

    def is_locked(self, request, credentials=None) -> bool:
        if super().is_locked(request, credentials):
            return True
        limit = settings.LOGIN_FAILURE_LIMIT_PER_USERNAME
        return self._username_failures(request, credentials) >= limit

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out:
            return
        if self._username_failures(request, credentials) >= (
            settings.LOGIN_FAILURE_LIMIT_PER_USERNAME
        ):
            # What axes does when its own limit is reached.
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=normalised_username(request, credentials),
                ip_address=request.axes_ip_address,
            )


def locked_out(request, original_response=None, credentials=None):
    """axes' answer to a limited attempt: the login page again, 429 with Retry-After. Every
    refused attempt is a failure too and starts the minute again, so the wait is the whole
    cool-off."""
    # An unbound form: nothing of this attempt is checked, and the page is the same whether
    # or not the account exists.
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    response = render(
        request,
        "registration/login.html",
        {"form": form, "too_many_attempts": True, "next": request.POST.get("next", "")},
        status=429,
    )
    response["Retry-After"] = str(int(get_cool_off(request).total_seconds()))
    return response
