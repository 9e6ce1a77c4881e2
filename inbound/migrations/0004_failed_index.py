from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking out writes: webhooks keep arriving meanwhile.
    atomic = False

    dependencies = [
        ("inbound", "0003_provider_choices_from_connections"),
        ("storefront_settings", "0009_connected_accounts"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="inboundevent",
            index=models.Index(
                condition=models.Q(("status", "failed")),
                fields=["received_at"],
                name="inbound_event_failed",
            ),
        ),
    ]
