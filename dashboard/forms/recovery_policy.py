"""The recovery emails page's form: which failed payments the buyer is emailed about, from
which amount, when, until when, and with which discount, retry link and other ways to pay.

It edits RecoveryPolicy through its own fields (amounts as the merchant types them, delays as
a list, reasons as boxes to tick) and gives the policy's values back in `values()`."""

import re
from decimal import Decimal

from babel.numbers import get_currency_precision
from django import forms
from django.utils import formats
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from dashboard.forms.settings import SettingsForm
from payments.reasons import MERCHANT_ONLY, FailureReason
from storefront_settings.models import PaymentMethod, Storefront

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
# A delay as a merchant writes it: a number and an optional unit, in English or French (the
# dashboard's languages); a number alone is minutes, as the field's label says.
_DELAY = re.compile(r"(?P<number>\d{1,6})\s*(?P<unit>[^\d\s]*)", re.IGNORECASE)
_UNIT_MINUTES = {
    "": 1,
    **dict.fromkeys(("m", "mn", "min", "mins", "minute", "minutes"), 1),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "heure", "heures"), 60),
    **dict.fromkeys(("d", "day", "days", "j", "jour", "jours"), 24 * 60),
}
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|[{}]")
ORDER_PLACEHOLDER = "{order_reference}"
MAX_EMAILS = 3


def delays_display(minutes: list[int]) -> str:
    """Delays as the merchant reads (and may type back) them: whole hours in hours, the rest in
    minutes, e.g. "0 min, 15 min, 24 h, 72 h"."""
    return ", ".join(
        f"{delay // 60} h" if delay and delay % 60 == 0 else f"{delay} min" for delay in minutes
    )


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
    email_delay_minutes = forms.CharField(
        label=_("When to send the emails (minutes after the failure)"),
        max_length=60,
        help_text=_(
            "One to three delays in increasing order, in minutes or with a unit (min, h, d), "
            "e.g. 15, 24 h, 72 h: an email a quarter of an hour after the failure, another the "
            "next day, the last three days later. 0 sends the first one right away (a buyer who "
            "just failed the bank's check is often still at the screen). Quiet hours and the "
            "daily limit per buyer still apply."
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
                "email_delay_minutes": delays_display(policy.email_delay_minutes),
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

    def clean_email_delay_minutes(self) -> list[int]:
        """The delays in minutes, as stored."""
        delays = []
        for part in re.split(r"[,;/]+", self.cleaned_data["email_delay_minutes"]):
            part = part.strip()
            if not part:
                continue
            match = _DELAY.fullmatch(part)
            unit = match and _UNIT_MINUTES.get(match["unit"].lower().rstrip("."))
            if match is None or unit is None:
                raise forms.ValidationError(
                    _(
                        "“%(part)s” is not a delay. Write them in minutes or with a unit, like "
                        "0, 15 min, 24 h, 3 d."
                    )
                    % {"part": part}
                )
            delays.append(int(match["number"]) * unit)
        if not 1 <= len(delays) <= MAX_EMAILS:
            raise forms.ValidationError(_("Give one to three delays, e.g. 15, 24 h, 72 h."))
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
        delays = cleaned.get("email_delay_minutes")
        window = cleaned.get("recovery_window_days")
        if delays and window and delays[-1] > window * 24 * 60:
            self.add_error(
                "email_delay_minutes",
                _(
                    "The last email (%(delay)s after the failure) would come after the sale is "
                    "given up (%(days)s days = %(window)s): shorten the delays or lengthen the "
                    "window."
                )
                % {
                    "delay": delays_display(delays[-1:]),
                    "days": window,
                    "window": delays_display([window * 24 * 60]),
                },
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
            "email_delay_minutes": data["email_delay_minutes"],
            "recovery_window_days": data["recovery_window_days"],
            "discount_code": data["discount_code"],
            "discount_wording": data["discount_wording"],
            "checkout_url_template": data["checkout_url_template"],
            # In the order of the choices, so ticking the same boxes changes nothing.
            "other_payment_methods": [m for m in methods if m in data["other_payment_methods"]],
        }
