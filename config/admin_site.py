"""Django admin for ops: it reads every tenant, so with DEBUG off it asks for a second factor
(django-otp's OTPAdminSite: only a session verified with a code is let in). With DEBUG on (the
demo, on a laptop) the password is enough. Staff get an authenticator with
`manage.py enroll_totp --user EMAIL`."""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.admin import OTPAdminSite

from dashboard.forms.two_factor import AdminLoginForm


class OpsAdminSite(OTPAdminSite):
    # Asked at each request rather than fixed at start-up, so a test can turn DEBUG on.
    @property
    def login_form(self):
        return AdminAuthenticationForm if settings.DEBUG else AdminLoginForm

    @property
    def login_template(self):
        return None if settings.DEBUG else "admin/login_two_factor.html"

    def __init__(self, name="admin"):
        # OTPAdminSite names itself "otpadmin"; the URLs keep their usual names (admin:…).
        super().__init__(name)

    def has_permission(self, request):
        if settings.DEBUG:
            return AdminSite.has_permission(self, request)
        return super().has_permission(request)
