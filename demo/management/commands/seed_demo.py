import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from demo.history import seed
from demo.shop import DEMO_EMAIL, DEMO_PASSWORD, DEMO_SECRETS, DEMO_SLUG
from notifications.samples import full_storefront
from storefront_settings.management.base import Command as BaseCommand
from storefront_settings.models import Storefront
from storefront_settings.selectors import active_provider_secrets
from storefront_settings.services.credentials import add_provider_secret
from storefront_settings.services.storefronts import create_storefront


class Command(BaseCommand):
    help = (
        "Create the demo storefront and its owner (DEBUG only), fill it with six weeks of "
        "history unless it has some, then print how to log in."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Wipe the demo storefront's sales, shipments, emails and events; seed again.",
        )
        parser.add_argument(
            "--no-history", action="store_true", help="Only the storefront and its owner."
        )

    def handle(self, *args, reset=False, no_history=False, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo makes an account with a published password; it runs with DEBUG on only",
                returncode=2,
            )
        storefront = Storefront.objects.filter(slug=DEMO_SLUG).first()
        if storefront is None:
            storefront = self._create()
        else:
            self._connect(storefront)
        if reset:
            seed.wipe(storefront)
            self.stdout.write("Demo history wiped.")
        if not no_history and not seed.has_history(storefront):
            started = time.monotonic()
            seed.configure(storefront)
            summary = seed.seed_history(storefront)
            self.stdout.write(
                f"Demo history: {summary.sales} lost sales, {summary.shipments} shipments, "
                f"{summary.events} webhook events, {summary.messages} emails "
                f"in {time.monotonic() - started:.1f} s."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"\nAftersale demo: {settings.SITE_URL}/login/\n"
                f"  email:    {DEMO_EMAIL}\n"
                f"  password: {DEMO_PASSWORD}\n"
                f"  storefront: {storefront.name} ({settings.SITE_URL}/app/{storefront.slug}/)\n"
            )
        )

    def _connect(self, storefront: Storefront) -> None:
        """A demo storefront made before the demo used a connection gets its secret, so that
        its history shows the connection connected and the trickle's events are accepted. A
        connection that has an active secret keeps it."""
        for provider, secret in DEMO_SECRETS:
            if not active_provider_secrets(storefront=storefront, provider=provider):
                add_provider_secret(storefront=storefront, provider=provider, secret=secret)
                self.stdout.write(f"Demo secret added for {provider}.")

    def _create(self) -> Storefront:
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
        return storefront
