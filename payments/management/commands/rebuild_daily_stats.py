from django.core.management.base import CommandError

from payments import stats
from storefront_settings.management.base import Command as BaseCommand
from storefront_settings.models import Storefront


class Command(BaseCommand):
    help = (
        "Recompute the daily statistics of lost sales (the dashboard's overview) from the sales: "
        "after a bulk load, or a change of a storefront's time zone. Safe while events arrive."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--storefront",
            action="append",
            default=[],
            metavar="SLUG",
            help="Only this storefront (repeatable); every storefront when omitted.",
        )

    def handle(self, *args, **options):
        slugs = options["storefront"]
        storefronts = Storefront.objects.order_by("pk")
        if slugs:
            storefronts = storefronts.filter(slug__in=slugs)
            missing = sorted(set(slugs) - {s.slug for s in storefronts})
            if missing:
                raise CommandError(f"no storefront with the slug {missing[0]!r}", returncode=2)
        for storefront in storefronts:
            rows = stats.rebuild(storefront=storefront)
            self.stdout.write(f"{storefront.slug}: {rows} daily rows")
