"""The shipment emails page's form: which milestones of a parcel's journey the buyer is emailed
about, and after how many days without news a parcel counts as stalled."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.forms.settings import SettingsForm
from storefront_settings.models import Milestone, ShipmentPolicy
from storefront_settings.models.policies import default_milestones

MILESTONE_LABELS = dict(Milestone.choices)


class ShipmentPolicyForm(SettingsForm, forms.ModelForm):
    milestones = forms.MultipleChoiceField(
        label=_("Email the buyer when"),
        required=False,
        choices=Milestone.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each email is sent at most once per parcel."),
    )

    class Meta:
        model = ShipmentPolicy
        fields = ["milestones", "stalled_days"]
        labels = {"stalled_days": _("A parcel is stalled after (days without news)")}
        help_texts = {
            "stalled_days": _(
                "From 1 to 30. A parcel not yet delivered with no carrier update for this many "
                "days is listed as stalled, and the buyer is told if ticked above."
            )
        }
        widgets = {"stalled_days": forms.NumberInput(attrs={"min": 1, "max": 30})}

    def clean_milestones(self) -> list[str]:
        chosen = set(self.cleaned_data["milestones"])
        return [name for name in default_milestones() if name in chosen]
