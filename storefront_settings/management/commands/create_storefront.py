import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from storefront_settings import connections
from storefront_settings.management.base import Command as BaseCommand
from storefront_settings.models import Language
from storefront_settings.selectors import webhook_path
from storefront_settings.services.storefronts import create_storefront


def provider_secret(value: str) -> tuple[str, str]:
    provider, sep, secret = value.partition("=")
    if not sep or not provider or not secret:
        raise CommandError("--secret takes PROVIDER=SECRET", returncode=2)
    return provider.strip().lower(), secret


class Command(BaseCommand):
    help = "Create a storefront with its owner and an API key."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument(
            "--password", help="The owner's password; made up and printed if left out."
        )
        parser.add_argument("--slug", help="Defaults to the name, slugified.")
        parser.add_argument("--language", choices=Language.values)
        parser.add_argument(
            "--secret",
            action="append",
            default=[],
            metavar="PROVIDER=SECRET",
            help="A webhook signing secret; PROVIDER is one of "
            + ", ".join(connections.known_keys()),
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        secrets = [provider_secret(value) for value in options["secret"]]
        try:
            created = create_storefront(
                name=options["name"],
                owner_email=options["owner_email"],
                password=options["password"],
                provider_secrets=secrets,
                slug=options["slug"],
                language=options["language"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages), returncode=2) from None

        storefront = created.storefront
        result = {
            "id": storefront.public_id,
            "slug": storefront.slug,
            "name": storefront.name,
            "owner_email": created.owner.email,
            "api_key": created.raw_api_key,
            "dashboard_url": f"{settings.SITE_URL}/app/{storefront.slug}/",
            "webhook_urls": {
                provider: webhook_path(storefront=storefront, provider=provider)
                for provider in connections.known_keys()
            },
        }
        if created.generated_password:
            result["owner_password"] = created.generated_password
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        self.stdout.write(f"Created storefront {storefront.name} ({storefront.slug}).")
        self.stdout.write(f"  id:        {storefront.public_id}")
        self.stdout.write(f"  owner:     {created.owner.email}")
        if created.generated_password:
            self.stdout.write(f"  password:  {created.generated_password}")
        self.stdout.write(f"  API key:   {created.raw_api_key}  (shown once)")
        self.stdout.write(f"  dashboard: {result['dashboard_url']}")
        for provider, path in result["webhook_urls"].items():
            self.stdout.write(f"  webhook {provider}: {settings.SITE_URL}{path}")
