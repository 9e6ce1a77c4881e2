"""Give a staff user an authenticator for the admin (which, with DEBUG off, asks for a code)."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from storefront_settings.management.base import Command as BaseCommand
from storefront_settings.two_factor import authenticator, enroll_authenticator


class Command(BaseCommand):
    help = (
        "Enrol an authenticator app (TOTP) for a staff user: prints the provisioning URI to "
        "scan or type into the app, and recovery codes, once. Replaces any authenticator and "
        "recovery codes the user had."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="The staff user's email (username).")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace the user's current authenticator (the old one stops working).",
        )

    def handle(self, *args, **options):
        given = options["user"].strip()
        users = list(get_user_model()._default_manager.filter(username__iexact=given)[:2])
        if len(users) != 1:
            raise CommandError(f"no single user with the username {given!r}", returncode=2)
        user = users[0]
        if not (user.is_active and user.is_staff):
            raise CommandError(
                f"{user.get_username()} is not active staff: members turn on two-factor login "
                "themselves, in the dashboard (Settings → My two-factor login)",
                returncode=2,
            )
        if authenticator(user=user) is not None and not options["replace"]:
            raise CommandError(
                f"{user.get_username()} already has an authenticator; add --replace to make a "
                "new one (the old one stops working)",
                returncode=2,
            )
        device, codes = enroll_authenticator(user=user)
        self.stdout.write(f"Authenticator enrolled for {user.get_username()}.")
        self.stdout.write("Scan or type this provisioning URI into the authenticator app:")
        self.stdout.write(device.config_url)
        self.stdout.write("Recovery codes, each good once (shown only now):")
        for code in codes:
            self.stdout.write(f"  {code}")
