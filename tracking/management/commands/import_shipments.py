import sys
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from storefront_settings.management.base import Command as BaseCommand
from storefront_settings.models import Storefront
from tracking.imports import import_rows, read_rows


class Command(BaseCommand):
    help = "Import shipments from a CSV file; good rows are imported, bad ones reported by line."

    def add_arguments(self, parser):
        parser.add_argument("--storefront", required=True, help="The storefront's slug.")
        parser.add_argument("file", help="The CSV file (UTF-8, a header row).")

    def handle(self, *args, **options):
        storefront = Storefront.objects.filter(slug=options["storefront"]).first()
        if storefront is None:
            raise CommandError(
                f"no storefront with the slug {options['storefront']!r}", returncode=2
            )
        try:
            text = Path(options["file"]).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {options['file']}: {error}", returncode=2) from None
        rows, error = read_rows(text)
        if error:
            raise CommandError(error, returncode=2)
        with tqdm(total=len(rows), unit="row", file=sys.stderr, disable=None) as bar:
            report = import_rows(storefront, rows, progress=lambda: bar.update(1))
        for line, reason in report.errors:
            self.stderr.write(f"line {line}: {reason}")
        self.stdout.write(
            f"{report.created} imported, {report.existing} already known, "
            f"{len(report.errors)} refused"
        )
        if report.errors:
            sys.exit(1)
