import django.contrib.postgres.fields
from django.db import migrations, models

import storefront_settings.models.policies

# Every storefront keeps its timing: its delays in hours become the same delays in minutes.
TO_MINUTES = """
UPDATE storefront_settings_recoverypolicy
SET email_delay_minutes = ARRAY(
    SELECT delay * 60 FROM unnest(email_delay_minutes) WITH ORDINALITY AS d(delay, n) ORDER BY n
)
"""
# Back to hours, rounded up: a delay under an hour (0 or 15 minutes) becomes 0 or 1 hour.
TO_HOURS = """
UPDATE storefront_settings_recoverypolicy
SET email_delay_minutes = ARRAY(
    SELECT (delay + 59) / 60 FROM unnest(email_delay_minutes) WITH ORDINALITY AS d(delay, n)
    ORDER BY n
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("storefront_settings", "0009_connected_accounts"),
    ]

    operations = [
        migrations.RenameField(
            model_name="recoverypolicy", old_name="email_delays", new_name="email_delay_minutes"
        ),
        migrations.RunSQL(TO_MINUTES, reverse_sql=TO_HOURS),
        migrations.AlterField(
            model_name="recoverypolicy",
            name="email_delay_minutes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.PositiveIntegerField(),
                default=storefront_settings.models.policies.default_email_delays,
                help_text="Minutes after the failure for each recovery email (up to three); "
                "0 is right away.",
                size=None,
                validators=[storefront_settings.models.policies.validate_email_delays],
            ),
        ),
    ]
