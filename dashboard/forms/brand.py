"""The brand page's form: the shop's name and web address, its brand (logo, colours) and the trust
details buyers see in the footer of every email and of the tracking page (legal identity,
customer service, policy links), with why a value is refused."""

import re

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siren, siret

from dashboard.forms.settings import SettingsForm
from storefront_settings.models import Storefront


def _https_urls(field, **kwargs):
    """Model URL fields as form fields that read "shop.example" as https://shop.example, like
    the admin does."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


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
