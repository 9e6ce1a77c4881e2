# Separate from 0004: PostgreSQL refuses to alter a table with updates pending in the same
# transaction, and every shipment now has its token.

from django.db import migrations, models

import tracking.models


class Migration(migrations.Migration):
    dependencies = [("tracking", "0004_page_tokens")]

    operations = [
        migrations.AlterField(
            model_name="shipment",
            name="page_token",
            field=models.CharField(
                default=tracking.models.new_page_token, editable=False, max_length=64, unique=True
            ),
        ),
    ]
