import django.db.models.deletion
from django.db import migrations, models

# Every sale recovered before this migration was recovered by its own order (the only kind
# there was); the payment that did it is its earliest successful payment, when one is linked.
BACKFILL = """
UPDATE payments_lostsale AS sale
SET recovered_by = 'same_order',
    recovered_by_payment_id = (
        SELECT payment.id FROM payments_payment AS payment
        WHERE payment.lost_sale_id = sale.id AND payment.status = 'succeeded'
        ORDER BY payment.succeeded_at, payment.id
        LIMIT 1
    )
WHERE sale.status = 'recovered'
"""


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0008_lostsale_invalid_buyer_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="lostsale",
            name="recovered_by",
            field=models.CharField(
                blank=True,
                choices=[
                    ("same_order", "Paid for this order"),
                    ("another_order", "Paid with another order"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="lostsale",
            name="recovered_by_payment",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The successful payment that settled the sale, when known",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="payments.payment",
            ),
        ),
        migrations.RunSQL(
            BACKFILL,
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
