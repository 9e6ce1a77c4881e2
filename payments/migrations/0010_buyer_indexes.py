import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking out writes: a big shop's payments and sales keep arriving meanwhile.
    atomic = False

    dependencies = [
        ("payments", "0009_lostsale_recovered_by"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="lostsale",
            index=models.Index(
                condition=models.Q(("recovered_by_payment__isnull", False)),
                fields=["recovered_by_payment"],
                name="lost_sale_recovered_by",
            ),
        ),
        AddIndexConcurrently(
            model_name="lostsale",
            index=models.Index(
                models.F("storefront"),
                django.db.models.functions.text.Lower(
                    django.db.models.functions.text.Trim("buyer_email")
                ),
                models.F("first_failed_at"),
                name="lost_sale_buyer",
            ),
        ),
        AddIndexConcurrently(
            model_name="payment",
            index=models.Index(
                models.F("storefront"),
                django.db.models.functions.text.Lower(
                    django.db.models.functions.text.Trim("buyer_email")
                ),
                models.F("succeeded_at"),
                condition=models.Q(("status", "succeeded")),
                name="payment_success_buyer",
            ),
        ),
    ]
