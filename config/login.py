"""/login/: Django's login view, then, for a user with a second factor, /login/code/.

Failed passwords are limited by django-axes (config/login_limits.py), on this page and on the
admin's alike. A right password for a user with a confirmed device does not log them in: the
session only remembers, for a few minutes, who gave it, and the user is logged in, with the
session marked verified (django-otp), once a code is accepted. Wrong codes are throttled by
the device itself (django-otp: 1, 2, 4, 8… seconds after each failure in a row)."""

import time

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from dashboard.forms.two_factor import CodeForm
from storefront_settings.two_factor import has_two_factor

PENDING = "login_pending_code"
# Long enough to open the app and type a code; a password given longer ago is asked again.
PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not has_two_factor(user):
            return super().form_valid(form)
        # The password was right; the session stays anonymous until the code is given.
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": int(time.time()),
            "next": self.get_success_url(),  # already checked to be on this site
        }
        return redirect("login-code")


def _pending_user(pending):
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    return get_user_model()._default_manager.filter(pk=pending.get("user"), is_active=True).first()


@sensitive_post_parameters("otp_token")
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@csrf_protect
def login_code(request):
    pending = request.session.get(PENDING)
    user = _pending_user(pending)
    if user is None:
        request.session.pop(PENDING, None)
        if pending is not None:
            messages.info(request, _("That took too long: log in again."))
        return redirect("login")
    form = CodeForm(user, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            del request.session[PENDING]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, form.verified)
            return redirect(pending["next"])
        status = 400
    return render(request, "registration/login_code.html", {"form": form}, status=status)
