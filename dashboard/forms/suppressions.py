"""The suppression list's forms: the search, an address added by the team, and the confirmation
that lifts a bounced address."""

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.services.outbox import normalise_email


class SuppressionSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Email address"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "camille@example.com"}),
    )

    def clean_q(self) -> str:
        return normalise_email(self.cleaned_data["q"])


class SuppressionAddForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("Buyer emails to this address stop at once, including those scheduled."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        help_text=_("Why, for your team: “asked by phone not to be emailed”…"),
    )

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])

    def clean_note(self) -> str:
        return " ".join(self.cleaned_data["note"].split())


class LiftForm(forms.Form):
    confirm = forms.BooleanField(
        required=False,
        label=_("I have checked that this address receives email again."),
    )
