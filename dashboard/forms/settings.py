"""What every settings form shares, and the forms of the short settings pages: the sending
guards (quiet hours and daily cap), the member's own alerts and the audit log's filter.

The brand, recovery emails and shipment emails pages have a module each (`brand`,
`recovery_policy`, `shipment_policy`). Each form's `values()` gives the fields a service saves;
the models' validators run again in the service, so a form can only be stricter than the model."""

from datetime import date, datetime, timedelta

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from storefront_settings.models import Membership, Storefront


class SettingsForm:
    """Mixin: a viewer sees the form with every field disabled (read only); `values()` gives a
    model form's fields as cleaned (a form that saves something else says so itself)."""

    def make_read_only(self):
        for field in self.fields.values():
            field.disabled = True

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class SendingForm(SettingsForm, forms.ModelForm):
    # A night without emails is fine; a day without them is not: past this, buyers would only
    # hear from the shop in a narrow window, and messages would pile up behind the cap.
    MAX_QUIET_HOURS = 16

    class Meta:
        model = Storefront
        fields = ["quiet_hours_start", "quiet_hours_end", "buyer_messages_per_day"]
        labels = {
            "quiet_hours_start": _("Quiet hours start"),
            "quiet_hours_end": _("Quiet hours end"),
            "buyer_messages_per_day": _("Emails per buyer per day, at most"),
        }
        help_texts = {
            "quiet_hours_end": _(
                "Give the same time for start and end to have no quiet hours. At most 16 hours."
            ),
            "buyer_messages_per_day": _(
                "From 1 to 20, counted over any 24 hours. An email over the cap waits until "
                "the buyer has room again; it is not dropped."
            ),
        }
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "buyer_messages_per_day": forms.NumberInput(attrs={"min": 1, "max": 20}),
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("quiet_hours_start"), cleaned.get("quiet_hours_end")
        if start is not None and end is not None and start != end:
            day = date(2000, 1, 1)
            length = datetime.combine(day, end) - datetime.combine(day, start)
            if length <= timedelta(0):
                length += timedelta(days=1)  # overnight, e.g. 21:00 to 08:00
            if length > timedelta(hours=self.MAX_QUIET_HOURS):
                self.add_error(
                    "quiet_hours_end",
                    _(
                        "These quiet hours last %(hours)s hours; keep them to %(max)s hours at "
                        "most so buyers still hear from you during the day."
                    )
                    % {
                        "hours": formats.number_format(length.total_seconds() / 3600, 1),
                        "max": self.MAX_QUIET_HOURS,
                    },
                )
        return cleaned


class AlertsForm(SettingsForm, forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["receives_alerts", "alert_frequency"]
        labels = {
            "receives_alerts": _("Email me about failed payments and parcels in trouble"),
            "alert_frequency": _("How often"),
        }
        help_texts = {
            "receives_alerts": _(
                "Only you get these settings; every member chooses their own. The link at the "
                "bottom of each alert email turns them off too."
            ),
            "alert_frequency": _("A daily digest arrives at 08:00, in the shop's time zone."),
        }
        widgets = {"alert_frequency": forms.RadioSelect}


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("What"), required=False)

    def __init__(self, data, *, actions: list[tuple[str, str]]):
        super().__init__(data)
        self.fields["action"].choices = [("", _("Every change")), *actions]
