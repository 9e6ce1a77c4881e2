"""Forms of the connections, API keys and members settings."""

from django import forms
from django.utils.translation import gettext_lazy as _

from storefront_settings import connections
from storefront_settings.models import ApiKey, Membership
from storefront_settings.services.members import normalise_invited_email


class ProviderSecretForm(forms.Form):
    # render_value=False: a form sent back with an error never carries the secret typed into it,
    # so it is in no page, cache or screenshot.
    secret = forms.CharField(
        label=_("Signing secret"),
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, provider: str, **kwargs):
        self.provider = provider
        kwargs.setdefault("prefix", provider)
        super().__init__(*args, **kwargs)

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        connection = connections.get(self.provider)
        if not connection.secret_format.accepts(secret):
            # Names the shape expected, never the value given.
            raise forms.ValidationError(
                _("This is not a %(provider)s signing secret: %(expected)s."),
                params={
                    "provider": connection.label,
                    "expected": connection.secret_format.expected,
                },
            )
        return secret


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=ApiKey._meta.get_field("name").max_length,
        help_text=_("What the key is for, e.g. the shop's back office."),
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.STAFF
    )

    def __init__(self, *args, storefront, **kwargs):
        self.storefront = storefront
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = normalise_invited_email(self.cleaned_data["email"])
        already = Membership.objects.for_storefront(self.storefront).filter(
            user__username__iexact=email
        )
        if already.exists():
            raise forms.ValidationError(
                _("%(email)s is already a member of this storefront."), params={"email": email}
            )
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
