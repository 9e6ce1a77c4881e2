from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from notifications.samples import full_storefront
from storefront_settings.management.base import Command as BaseCommand
from storefront_settings.models import Storefront
from storefront_settings.services import create_storefront

DEMO_SLUG = "demo"
DEMO_EMAIL = "merchant@example.com"
DEMO_PASSWORD = "recover-every-sale"  # noqa: S105 - printed on purpose; refused unless DEBUG
DEMO_SECRETS = [
    ("stripe", "whsec_demoDemoDemoDemoDemoDemo0000"),
    ("easypost", "easypost-demo-secret"),
    ("aftership", "aftership-demo-secret"),
    ("generic", "whsec_ZGVtby1nZW5lcmljLXNpZ25pbmcta2V5"),
]


class Command(BaseCommand):
    help = "Create the demo storefront and its owner (DEBUG only), then print how to log in."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo makes an account with a published password; it runs with DEBUG on only",
                returncode=2,
            )
        storefront = Storefront.objects.filter(slug=DEMO_SLUG).first()
        if storefront is None:
            try:
                created = create_storefront(
                    name="Maison Lune (demo)",
                    slug=DEMO_SLUG,
                    owner_email=DEMO_EMAIL,
                    password=DEMO_PASSWORD,
                    provider_secrets=DEMO_SECRETS,
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages), returncode=2) from None
            storefront = created.storefront
            # The demo shop shows every brand and trust detail, like a real one would.
            sample = full_storefront()
            for name in [*Storefront.BRAND_FIELDS, *Storefront.TRUST_FIELDS, "shop_url"]:
                setattr(storefront, name, getattr(sample, name))
            storefront.save()
            self.stdout.write(f"API key (shown once): {created.raw_api_key}")
        self.stdout.write(
            self.style.SUCCESS(
                f"\nAftersale demo: {settings.SITE_URL}/login/\n"
                f"  email:    {DEMO_EMAIL}\n"
                f"  password: {DEMO_PASSWORD}\n"
                f"  storefront: {storefront.name} ({settings.SITE_URL}/app/{storefront.slug}/)\n"
            )
        )
