"""The emails log's filters, and what each email is about in the merchant's words.

The log's filters keep the lost sales list's habits: the same parameter names (?period=30,
?from=…&to=…, ?q=), dates that are the storefront's calendar days, and a 400 that says what was
wrong with a filter rather than a silently ignored one.
"""

from datetime import datetime

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from dashboard.forms.periods import ANY_TIME, PERIODS, StorefrontListFilterForm, add_day_fields
from notifications.models import Audience, Message, MessageKind
from notifications.rendering import available_templates
from notifications.services.outbox import normalise_email
from payments.reasons import FailureReason
from storefront_settings.models import Storefront

KINDS = dict(MessageKind.choices)

Delivery = Message.Delivery

# What the ESP said, as a merchant asks it: "delivered" includes the messages opened or clicked
# since (news replaces news, see notifications.events.DELIVERY_RANK), "bounced" includes the
# ones the ESP refused before trying.
OUTCOMES = {
    "none": (_("No news yet"), [Delivery.NONE]),
    "deferred": (_("Delayed by the receiving server"), [Delivery.DEFERRED]),
    "delivered": (
        _("Delivered"),
        [Delivery.DELIVERED, Delivery.OPENED, Delivery.CLICKED],
    ),
    "opened": (_("Opened"), [Delivery.OPENED, Delivery.CLICKED]),
    "clicked": (_("Clicked"), [Delivery.CLICKED]),
    "bounced": (_("Bounced"), [Delivery.BOUNCED, Delivery.REJECTED]),
    "complained": (_("Marked as spam"), [Delivery.COMPLAINED]),
}


# What each email is about, in the merchant's words (template names are for developers).
TEMPLATES = {
    "merchant_failed_payment_alert": _("Alert to your team: a payment failed"),
    "merchant_daily_digest": _("Daily digest of failed payments"),
    "member_invitation": _("Invitation to join your team"),
    "shipment_shipped": _("Shipment: on its way, with the tracking link"),
    "shipment_out_for_delivery": _("Shipment: out for delivery"),
    "shipment_delivered": _("Shipment: delivered"),
    "shipment_failed_attempt": _("Shipment: a delivery attempt failed"),
    "shipment_available_for_pickup": _("Shipment: ready for pickup"),
    "shipment_exception": _("Shipment: a problem with the delivery"),
    "shipment_delay": _("Shipment: running late"),
    "shipment_stalled": _("Shipment: no news from the carrier"),
    "test_message": _("Test email"),
}
RECOVERY_PREFIX = "payment_recovery_"


def describe_template(name: str) -> str:
    """A template's subject in plain words; its own name when we have no words for it."""
    if name in TEMPLATES:
        return str(TEMPLATES[name])
    reason = name.removeprefix(RECOVERY_PREFIX)
    if name.startswith(RECOVERY_PREFIX) and reason in FailureReason.values:
        return _("Payment recovery: %(reason)s") % {"reason": FailureReason(reason).label}
    return name


def _template_choices():
    names = sorted(available_templates(), key=lambda name: str(describe_template(name)))
    return [("", _("Any email")), *((name, describe_template(name)) for name in names)]


class MessageFilterForm(StorefrontListFilterForm):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Message.Status.choices]
    )
    outcome = forms.ChoiceField(
        label=_("Delivery"),
        required=False,
        choices=[("", _("Any")), *((key, label) for key, (label, _values) in OUTCOMES.items())],
    )
    audience = forms.ChoiceField(
        label=_("Audience"), required=False, choices=[("", _("Buyers and team")), *Audience.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *KINDS.items()]
    )
    template = forms.ChoiceField(label=_("Email"), required=False)
    period = forms.ChoiceField(label=_("Period"), required=False, choices=[ANY_TIME, *PERIODS])
    q = forms.CharField(
        label=_("Recipient"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "camille@example.com"}),
    )

    def __init__(self, data, *, storefront: Storefront, now: datetime | None = None):
        super().__init__(data, storefront=storefront, now=now)
        self.fields["template"].choices = _template_choices()

    def clean_q(self) -> str:
        return normalise_email(self.cleaned_data["q"])

    def filter(self, queryset: QuerySet) -> QuerySet:
        """The queryset narrowed by the valid form, newest first.

        Dates apply to `send_at`, the time the message was meant to go: every message has one,
        sent or not, so a scheduled email shows in the period it is due in."""
        data = self.cleaned_data
        for name in ("status", "audience", "kind", "template"):
            if data[name]:
                queryset = queryset.filter(**{name: data[name]})
        if data["outcome"]:
            queryset = queryset.filter(delivery__in=OUTCOMES[data["outcome"]][1])
            if data["outcome"] == "none":
                queryset = queryset.filter(status=Message.Status.SENT)
        # A period has no end: what is scheduled for later still shows.
        queryset = self.filter_dates(queryset, "send_at")
        if data["q"]:
            queryset = queryset.filter(Q(to__icontains=data["q"]))
        return queryset.order_by("-send_at", "-pk")


add_day_fields(MessageFilterForm)
