"""Forms that check a second-factor code (the login's second step, the member's two-factor
page, the admin's login) and the storefront's two-factor requirement.

The checking is django-otp's (OTPAuthenticationFormMixin: throttling, each code used once);
what is ours is which device a code is checked against and the words."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from dashboard.forms.settings import SettingsForm
from storefront_settings import two_factor
from storefront_settings.models import Storefront

WRONG_CODE = _(
    "This code is not right. Enter the 6-digit code your authenticator app shows now, or one "
    "of your recovery codes you have not used."
)


class CodeChecks(OTPAuthenticationFormMixin):
    """Checks `otp_token` against the one device it belongs to (or `self.device`, the
    authenticator being set up). Nothing of the user's devices is listed, and the password is
    never sent back in the page (django-otp's own forms do both)."""

    device = None

    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": _("Enter the code."),
        "invalid_token": WRONG_CODE,
        # No device for that kind of code: the same words as a wrong code.
        "device_required": WRONG_CODE,
        "n_failed_attempts": _(
            "Too many wrong codes in a row (%(failure_count)d): wait a minute, then try again "
            "with a new code."
        ),
        "verification_not_allowed": _("Codes cannot be checked just now: try again in a minute."),
    }

    def clean_otp_token(self):
        return two_factor.normalise_code(self.cleaned_data.get("otp_token", ""))

    def _chosen_device(self, user):
        if self.device is not None:
            # Locked, like django-otp's own lookups, so two requests cannot both use a code.
            return TOTPDevice.objects.select_for_update().filter(pk=self.device.pk).first()
        code = self.cleaned_data.get("otp_token", "")
        return two_factor.device_for_code(user, code, for_verify=True)

    def _update_form(self, user):
        pass


class CodeForm(CodeChecks, forms.Form):
    """One code for `user`. After is_valid(), `verified` is the device that accepted it."""

    otp_token = forms.CharField(
        label=_("Code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )

    def __init__(self, user, data=None, *, device: TOTPDevice | None = None, auto_id="id_%s"):
        super().__init__(data, auto_id=auto_id)
        self.user = user
        self.device = device
        self.verified = None

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        # django-otp notes the device on the user it checks; the caller's user (often
        # request.user) is left as it was, and decides what to do with `verified`.
        before = getattr(self.user, "otp_device", None)
        try:
            self.clean_otp(self.user)
            self.verified = self.user.otp_device
        except ValidationError as error:
            self.add_error("otp_token", error)
        finally:
            self.user.otp_device = before
        return cleaned


class AdminLoginForm(CodeChecks, OTPAdminAuthenticationForm):
    """Django admin's login with a code in the same form (email, password, code)."""

    otp_token = forms.CharField(
        label=_("Code"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "off"}),
        help_text=_("From your authenticator app, or one of your recovery codes."),
    )


class SecurityForm(SettingsForm, forms.ModelForm):
    class Meta:
        model = Storefront
        fields = ["require_two_factor"]
        labels = {"require_two_factor": _("Require two-factor login from every member")}
        help_texts = {
            "require_two_factor": _(
                "A member who has not turned on two-factor login is sent to set it up, and sees "
                "nothing else of this storefront until they have. The API, with its keys, is not "
                "concerned."
            )
        }

    def __init__(self, *args, verified: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.verified = verified

    def clean_require_two_factor(self):
        required = self.cleaned_data["require_two_factor"]
        # Whoever turns it on has it themselves, or their next page would lock them out.
        if required and not self.instance.require_two_factor and not self.verified:
            raise ValidationError(
                _("Turn on two-factor login for yourself first (My two-factor login)."),
                code="not_verified",
            )
        return required
