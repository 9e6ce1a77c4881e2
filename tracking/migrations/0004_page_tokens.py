"""A random token per shipment for the buyer's tracking page, given to every existing shipment.

The signed links already in buyers' mailboxes keep working (signed_link_valid) until the
shipment's link is revoked. In passing, carrier links that are not web addresses (javascript:,
data:…), which the EasyPost and AfterShip adapters used to store as given, are emptied."""

import secrets

from django.db import migrations, models

BATCH = 1000
PAGE_TOKEN_BYTES = 22  # tracking.models.PAGE_TOKEN_BYTES, frozen here as migrations should be


def give_tokens(apps, schema_editor):
    Shipment = apps.get_model("tracking", "Shipment")
    while True:
        batch = list(
            Shipment._base_manager.filter(page_token__isnull=True).only("pk").order_by("pk")[:BATCH]
        )
        if not batch:
            break
        for shipment in batch:
            shipment.page_token = secrets.token_urlsafe(PAGE_TOKEN_BYTES)
            # Issued before this migration: its signed link may be in the buyer's mailbox.
            shipment.signed_link_valid = True
        Shipment._base_manager.bulk_update(batch, ["page_token", "signed_link_valid"])


def drop_unsafe_carrier_links(apps, schema_editor):
    Shipment = apps.get_model("tracking", "Shipment")
    Shipment._base_manager.exclude(carrier_tracking_url="").exclude(
        carrier_tracking_url__iregex=r"^https?://"
    ).update(carrier_tracking_url="")


class Migration(migrations.Migration):
    dependencies = [("tracking", "0003_search_indexes")]

    operations = [
        migrations.AddField(
            model_name="shipment",
            name="page_token",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="shipment",
            name="signed_link_valid",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(give_tokens, migrations.RunPython.noop),
        migrations.RunPython(drop_unsafe_carrier_links, migrations.RunPython.noop),
    ]
