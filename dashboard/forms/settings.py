"""The settings forms: what a merchant may type for their brand, trust details and policies, and
why a value is refused. Each form's `values()` gives the fields a service saves; the models'
validators run again in the service, so a form can only be stricter than the model."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from babel.numbers import get_currency_precision
from django import forms
from django.db import models
from django.utils import formats
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siren, siret

from payments.reasons import MERCHANT_ONLY, FailureReason
from storefront_settings.models import (
    Membership,
    Milestone,
    PaymentMethod,
    ShipmentPolicy,
    Storefront,
    default_milestones,
)


def _https_urls(field, **kwargs):
    """Model URL fields as form fields that read "shop.example" as https://shop.example, like
    the admin does."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class SettingsForm:
    """Mixin: a viewer sees the form with every field disabled (read only); `values()` gives a
    model form's fields as cleaned (a form that saves something else says so itself)."""

    def make_read_only(self):
        for field in self.fields.values():
            field.disabled = True

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


# Where buyers see each brand and trust detail (the help under each field).
BRAND_HELP = {
    "name": _("The shop's name, as buyers know it: the sender of every email and its subject."),
    "shop_url": _(
        "Your shop's home page. A buyer's retry link falls back to it when there is no better "
        "place to pay again."
    ),
    "logo_url": _(
        "An https link to your logo (PNG or JPEG, about 40 pixels high), at the top of every "
        "email and of the tracking page. Without one, the shop's name is shown."
    ),
    "brand_colour": _("The band at the top of every email and of the tracking page, e.g. #1D2330."),
    "accent_colour": _("Buttons, links and the discount code box, e.g. #2356D8."),
    "legal_name": _(
        "The company's registered name. French law asks a seller to say who they are: this and "
        "the details below are in the footer of every email and of the tracking page."
    ),
    "company_number": _("Your SIREN (9 digits) or SIRET (14 digits). Spaces are fine."),
    "address_line1": _("The registered address."),
    "support_email": _(
        "Where buyers write with a question; in the footer of every email and of the tracking page."
    ),
    "support_phone": _("Shown next to the support email, with the hours below."),
    "support_hours": _("For example: Monday to Friday, 9:00 to 18:00."),
    "terms_url": _(
        "Linked, like the three policies below, in the footer of every email and of the "
        "tracking page."
    ),
    "withdrawal_url": _("How a buyer withdraws from the sale (14 days in the EU)."),
}

_PHONE = re.compile(r"\+?[0-9][0-9 ().\-]{4,}")
_SEPARATORS = re.compile(r"[\s.\-]")


class BrandForm(SettingsForm, forms.ModelForm):
    class Meta:
        model = Storefront
        fields = ["name", "shop_url", *Storefront.BRAND_FIELDS, *Storefront.TRUST_FIELDS]
        formfield_callback = _https_urls
        labels = {
            "name": _("Shop name"),
            "shop_url": _("Shop address (URL)"),
            "logo_url": _("Logo (URL)"),
            "brand_colour": _("Brand colour"),
            "accent_colour": _("Accent colour"),
            "legal_name": _("Legal name"),
            "company_number": _("SIREN or SIRET"),
            "address_line1": _("Address"),
            "address_line2": _("Address, line 2"),
            "postal_code": _("Postal code"),
            "city": _("City"),
            "country": _("Country"),
            "support_email": _("Support email"),
            "support_phone": _("Support phone"),
            "support_hours": _("Support hours"),
            "terms_url": _("Terms of sale (URL)"),
            "returns_url": _("Returns policy (URL)"),
            "withdrawal_url": _("Right of withdrawal (URL)"),
            "privacy_url": _("Privacy policy (URL)"),
        }
        help_texts = BRAND_HELP
        widgets = {
            "brand_colour": forms.TextInput(attrs={"size": 8, "maxlength": 7}),
            "accent_colour": forms.TextInput(attrs={"size": 8, "maxlength": 7}),
            "support_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }

    def clean_logo_url(self) -> str:
        # Mail clients and the dashboard's content policy load images over https only.
        url = self.cleaned_data["logo_url"]
        if url and not url.startswith("https://"):
            raise forms.ValidationError(_("Use an https:// link: images over http are blocked."))
        return url

    def clean_brand_colour(self) -> str:
        return self.cleaned_data["brand_colour"].strip().upper()

    def clean_accent_colour(self) -> str:
        return self.cleaned_data["accent_colour"].strip().upper()

    def clean_company_number(self) -> str:
        """Stored as digits only, however it was typed ("732 829 320 00074")."""
        typed = self.cleaned_data["company_number"]
        digits = _SEPARATORS.sub("", typed)
        if digits and not (siren.is_valid(digits) or siret.is_valid(digits)):
            if len(digits) in (9, 14) and digits.isdigit():
                message = _(
                    "This number fails its check digit: check it against your Kbis or "
                    "the INSEE register."
                )
            else:
                message = _("Enter a SIREN (9 digits) or a SIRET (14 digits).")
            raise forms.ValidationError(message, code="company_number")
        return digits

    def clean_support_phone(self) -> str:
        phone = self.cleaned_data["support_phone"].strip()
        if phone and not _PHONE.fullmatch(phone):
            raise forms.ValidationError(
                _(
                    "Enter a phone number with digits, spaces and an optional +, "
                    "e.g. +33 1 23 45 67 89."
                )
            )
        return phone


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


# What the recovery email asks the buyer, per reason (ARCHITECTURE.md's table, in plain words).
REASON_HELP = {
    FailureReason.AUTHENTICATION_FAILED: _("Retry and complete the bank's check (3-D Secure)."),
    FailureReason.CARD_DETAILS_INCORRECT: _("Re-enter the card details."),
    FailureReason.CARD_EXPIRED: _("Use another card."),
    FailureReason.INSUFFICIENT_FUNDS: _("Another card or payment method, in tactful words."),
    FailureReason.LIMIT_EXCEEDED: _("Contact the bank, or use another method."),
    FailureReason.ONLINE_PAYMENT_NOT_ENABLED: _(
        "Enable online payments with the bank, or use another method."
    ),
    FailureReason.BANK_DECLINED: _("Contact the bank, or use another method."),
    FailureReason.PROCESSING_ERROR: _("Simply try again."),
    FailureReason.ABANDONED: _("A reminder of the basket, with the discount code if you set one."),
    FailureReason.UNKNOWN: _("Generic words: try again or use another method."),
}
# Suspected fraud and the shop's own payment setup are told to the merchant only (payments
# services never email the buyer about them), so they are not offered here at all.
BUYER_REASONS = [reason for reason in FailureReason if reason not in MERCHANT_ONLY]

_AMOUNT = re.compile(r"(?P<units>\d{1,9})(?:[.,](?P<fraction>\d+))?")
_SPACES = re.compile(r"[\s\u00a0\u202f]")
_DELAY = re.compile(r"(?P<hours>\d{1,5})\s*h?", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|[{}]")
ORDER_PLACEHOLDER = "{order_reference}"
MAX_EMAILS = 3


class RecoveryPolicyForm(SettingsForm, forms.Form):
    emailed_reasons = forms.MultipleChoiceField(
        label=_("Email the buyer when the payment failed because of"),
        required=False,
        choices=[
            (reason.value, format_lazy("{} — {}", reason.label, REASON_HELP[reason]))
            for reason in BUYER_REASONS
        ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Suspected fraud and problems with your own payment setup are never explained to "
            "the buyer: only you are alerted."
        ),
    )
    minimum_amount = forms.CharField(
        label=_("Minimum order amount"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )
    email_delays = forms.CharField(
        label=_("When to send the emails (hours after the failure)"),
        max_length=40,
        help_text=_(
            "One to three delays in hours, in increasing order, e.g. 1, 24, 72: an email one "
            "hour after the failure, another the next day, the last three days later."
        ),
    )
    recovery_window_days = forms.IntegerField(
        label=_("Give up after (days)"),
        min_value=1,
        max_value=60,
        help_text=_(
            "From 1 to 60 days. A sale not paid by then is marked lost and its emails stop."
        ),
    )
    discount_code = forms.CharField(
        label=_("Discount code"),
        required=False,
        max_length=50,
        help_text=_("Offered in the last email only. Leave empty to offer none."),
    )
    discount_wording = forms.CharField(
        label=_("Words before the code"),
        required=False,
        max_length=200,
        # xgettext:no-python-format
        help_text=_("For example: a 10% code to make up for it"),
    )
    checkout_url_template = forms.URLField(
        label=_("Where to pay again (URL template)"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_(
            "Used when the payment provider gives no recovery link. {order_reference} is "
            "replaced by the order's reference, e.g. https://shop.example/checkout/"
            "{order_reference} becomes https://shop.example/checkout/A-1042. Empty: buyers go "
            "to your shop's home page."
        ),
    )
    other_payment_methods = forms.MultipleChoiceField(
        label=_("Other ways to pay you"),
        required=False,
        choices=PaymentMethod.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Suggested when the card will not do (no funds, limit reached, declined, expired)."
        ),
    )

    def __init__(self, data=None, *, policy, storefront: Storefront):
        self.policy = policy
        self.currency = storefront.currency
        self.digits = get_currency_precision(self.currency)
        super().__init__(
            data,
            initial={
                "emailed_reasons": [
                    reason.value
                    for reason in BUYER_REASONS
                    if reason.value not in policy.disabled_reasons
                ],
                "minimum_amount": formats.number_format(
                    Decimal(policy.minimum_amount).scaleb(-self.digits), self.digits
                ),
                "email_delays": ", ".join(str(delay) for delay in policy.email_delays),
                "recovery_window_days": policy.recovery_window_days,
                "discount_code": policy.discount_code,
                "discount_wording": policy.discount_wording,
                "checkout_url_template": policy.checkout_url_template,
                "other_payment_methods": policy.other_payment_methods,
            },
        )
        self.fields["minimum_amount"].label = _("Minimum order amount (%(currency)s)") % {
            "currency": self.currency
        }
        self.fields["minimum_amount"].help_text = _(
            "In %(currency)s, e.g. 20 or 19,90; 0 for every amount. Below it, the buyer gets "
            "no recovery email (you are still alerted)."
        ) % {"currency": self.currency}

    def clean_minimum_amount(self) -> int:
        """The amount in minor units (cents), as stored."""
        typed = _SPACES.sub("", self.cleaned_data["minimum_amount"]).lstrip("+")
        if typed.startswith("-"):
            raise forms.ValidationError(_("The minimum amount cannot be negative."))
        match = _AMOUNT.fullmatch(typed)
        fraction = (match and match["fraction"]) or ""
        if match is None or len(fraction) > self.digits:
            raise forms.ValidationError(
                _("Enter an amount such as 20 or 19,90 (in %(currency)s, not in cents).")
                % {"currency": self.currency}
            )
        minor = int(Decimal(f"{match['units']}.{fraction or '0'}").scaleb(self.digits))
        if minor > 2**31 - 1:
            raise forms.ValidationError(_("This amount is too large."))
        return minor

    def clean_email_delays(self) -> list[int]:
        delays = []
        for part in re.split(r"[,;/]+", self.cleaned_data["email_delays"]):
            match = _DELAY.fullmatch(part.strip())
            if part.strip() and match is None:
                raise forms.ValidationError(
                    _("“%(part)s” is not a number of hours. Write them like 1, 24, 72.")
                    % {"part": part.strip()}
                )
            if match:
                delays.append(int(match["hours"]))
        if not 1 <= len(delays) <= MAX_EMAILS:
            raise forms.ValidationError(_("Give one to three delays, e.g. 1, 24, 72."))
        if any(delay < 1 for delay in delays):
            raise forms.ValidationError(_("Each delay is at least 1 hour."))
        if any(later <= earlier for earlier, later in zip(delays, delays[1:], strict=False)):
            raise forms.ValidationError(
                _("Give the delays in increasing order, each later than the one before.")
            )
        return delays

    def clean_checkout_url_template(self) -> str:
        template = self.cleaned_data["checkout_url_template"]
        if not template:
            return template
        unknown = [p for p in _PLACEHOLDER.findall(template) if p != ORDER_PLACEHOLDER]
        if unknown:
            raise forms.ValidationError(
                _("Only {order_reference} may appear between braces; remove %(unknown)s.")
                % {"unknown": ", ".join(dict.fromkeys(unknown))}
            )
        if ORDER_PLACEHOLDER not in template:
            raise forms.ValidationError(
                _(
                    "Put {order_reference} where the order's reference goes, e.g. "
                    "https://shop.example/checkout/{order_reference}."
                )
            )
        if ORDER_PLACEHOLDER in template.split("//", 1)[-1].split("/", 1)[0]:
            raise forms.ValidationError(
                _("{order_reference} goes in the path or the query, not in the domain name.")
            )
        return template

    def clean(self):
        cleaned = super().clean()
        delays, window = cleaned.get("email_delays"), cleaned.get("recovery_window_days")
        if delays and window and delays[-1] > window * 24:
            self.add_error(
                "email_delays",
                _(
                    "The last email (%(hours)s h) would come after the sale is given up "
                    "(%(days)s days = %(window)s h): shorten the delays or lengthen the window."
                )
                % {"hours": delays[-1], "days": window, "window": window * 24},
            )
        if cleaned.get("discount_wording") and not cleaned.get("discount_code"):
            self.add_error(
                "discount_wording",
                _("Give the discount code these words introduce, or leave them empty."),
            )
        return cleaned

    @property
    def example_retry_url(self) -> str:
        template = self.policy.checkout_url_template
        return template.replace(ORDER_PLACEHOLDER, "A-1042") if template else ""

    def values(self) -> dict:
        data = self.cleaned_data
        emailed = set(data["emailed_reasons"])
        # Reasons this form does not offer (merchant-only ones an admin may have listed) are
        # kept as they are.
        buyer = {reason.value for reason in BUYER_REASONS}
        disabled = [r.value for r in BUYER_REASONS if r.value not in emailed] + [
            r for r in self.policy.disabled_reasons if r not in buyer
        ]
        methods = [value for value, _label in PaymentMethod.choices]
        return {
            "disabled_reasons": disabled,
            "minimum_amount": data["minimum_amount"],
            "email_delays": data["email_delays"],
            "recovery_window_days": data["recovery_window_days"],
            "discount_code": data["discount_code"],
            "discount_wording": data["discount_wording"],
            "checkout_url_template": data["checkout_url_template"],
            # In the order of the choices, so ticking the same boxes changes nothing.
            "other_payment_methods": [m for m in methods if m in data["other_payment_methods"]],
        }


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
