# Separate from 0004: PostgreSQL refuses to alter a table with updates pending in the same
# transaction, and every shipment now has its token.

from django.db import migrations, models

import tracking.models


class Migration(migrations.Migration):
    dependencies = [
        ("storefront_settings", "0004_shipmentpolicy"),
        ("tracking", "0004_page_tokens"),
    ]

    operations = [
        migrations.AlterField(
            model_name="shipment",
            name="page_token",
            field=models.CharField(
                db_index=True, default=tracking.models.new_page_token, editable=False, max_length=64
            ),
        ),
        migrations.AddConstraint(
            model_name="shipment",
            constraint=models.UniqueConstraint(
                fields=("storefront", "page_token"), name="uniq_shipment_page_token"
            ),
        ),
    ]
