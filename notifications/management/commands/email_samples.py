import html
from pathlib import Path

from notifications.rendering import available_templates, render_sample
from notifications.samples import full_storefront
from storefront_settings.management.base import Command as BaseCommand
from storefront_settings.models import Language


class Command(BaseCommand):
    help = "Render every email template in every language into a folder to open in a browser."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", default="samples", help="Folder to write (default: samples)"
        )

    def handle(self, *args, **options):
        output = Path(options["output"])
        output.mkdir(parents=True, exist_ok=True)
        storefront = full_storefront()
        rows = []
        for name in sorted(available_templates()):
            for locale in Language.values:
                rendered = render_sample(name, storefront=storefront, locale=locale)
                stem = f"{name}.{locale}"
                (output / f"{stem}.html").write_text(rendered.html)
                (output / f"{stem}.txt").write_text(
                    f"Subject: {rendered.subject}\n\n{rendered.text}"
                )
                rows.append(
                    f"<tr><td>{html.escape(name)}</td><td>{locale}</td>"
                    f"<td>{html.escape(rendered.subject)}</td>"
                    f'<td><a href="{stem}.html">HTML</a> · <a href="{stem}.txt">text</a></td></tr>'
                )
        (output / "index.html").write_text(
            "<!doctype html><meta charset='utf-8'><title>Aftersale email samples</title>"
            "<h1>Email samples</h1><table border='1' cellpadding='6'>"
            "<tr><th>template</th><th>language</th><th>subject</th><th>open</th></tr>"
            + "".join(rows)
            + "</table>"
        )
        self.stdout.write(f"Wrote {len(rows)} samples to {output.resolve()}/index.html")
