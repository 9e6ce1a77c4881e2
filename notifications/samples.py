"""Sample storefronts for rendering every email template: one with every brand and trust detail
filled in, one with nothing but a name. Used by `make samples` and by the template tests."""

from datetime import time

from storefront_settings.models import Storefront


def full_storefront() -> Storefront:
    return Storefront(
        pk=1,
        name="Maison Lune",
        slug="maison-lune",
        language="fr",
        shop_url="https://maison-lune.example",
        logo_url="https://maison-lune.example/logo.png",
        brand_colour="#2B2D42",
        accent_colour="#D35400",
        legal_name="Maison Lune SAS",
        company_number="732 829 320 00074",
        address_line1="12 rue des Lilas",
        address_line2="Bâtiment B",
        postal_code="69003",
        city="Lyon",
        country="France",
        support_email="bonjour@maison-lune.example",
        support_phone="+33 4 72 00 00 00",
        support_hours="du lundi au vendredi, 9 h – 18 h",
        terms_url="https://maison-lune.example/cgv",
        returns_url="https://maison-lune.example/retours",
        withdrawal_url="https://maison-lune.example/retractation",
        privacy_url="https://maison-lune.example/confidentialite",
        quiet_hours_start=time(21, 0),
        quiet_hours_end=time(8, 0),
    )


def minimal_storefront() -> Storefront:
    return Storefront(pk=2, name="Petit Atelier", slug="petit-atelier")


SAMPLE_STOREFRONTS = {"full": full_storefront, "minimal": minimal_storefront}
