"""/login/: Django's login view, with a limit on failed attempts against password guessing."""

from django.contrib.auth import views as auth_views
from django_ratelimit.core import get_usage

# A person mistyping fails a few times a minute at most. Per address, ten failures a minute
# leave room for an office behind one NAT; per username, five a minute cap guessing at one
# account to 7,200 tries a day, far fewer than the common-password lists hold (and
# Django's validators refuse those passwords). Spraying many usernames from one address hits
# the address limit; spreading over addresses to guess one password hits the username limit.
RATES = {"address": "10/m", "username": "5/m"}


def submitted_username(group, request) -> str:
    # Case and spaces must not buy an attacker a fresh budget. The key is hashed by
    # django-ratelimit, so the username never sits in Redis in clear.
    return request.POST.get("username", "").strip().casefold()


KEYS = {"address": "ip", "username": submitted_username}


def _seconds_to_wait(request) -> int:
    """0 if this attempt may go ahead, else how long until the limiting window ends."""
    waits = [0]
    for name, rate in RATES.items():
        usage = get_usage(request, group=f"login.{name}", key=KEYS[name], rate=rate)
        # `count` is the failures so far in this window; this attempt would be one more.
        if usage is not None and usage["count"] >= usage["limit"]:
            waits.append(max(usage["time_left"], 1))
    return max(waits)


def _count_failure(request) -> None:
    for name, rate in RATES.items():
        get_usage(request, group=f"login.{name}", key=KEYS[name], rate=rate, increment=True)


class LoginView(auth_views.LoginView):
    """Only failed attempts count: a successful login spends nothing, so a team logging in
    from one office is never held back. The check comes before the password is looked at, so
    while limited even the right password is refused, and the answer is the same whether or
    not the account exists. Checking before and counting after lets at most as many extra
    attempts through as there are requests in flight at that moment, a bounded overshoot."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        wait = _seconds_to_wait(request)
        if wait:
            # An unbound form: validating it would check the password.
            form = self.get_form_class()(
                request, initial={"username": request.POST.get("username", "")}
            )
            context = self.get_context_data(form=form, too_many_attempts=True)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        _count_failure(self.request)
        return super().form_invalid(form)
