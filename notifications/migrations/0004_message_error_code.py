from django.db import migrations, models
from django.db.models import Q

# The rows written before the code: the emails page used to read their English notes and the
# exception's class at the start of `last_error`; this gives them the code that reading gave.
NOTES = [
    ("suppressed", Q(last_error="The address is on the suppression list.")),
    ("opted_out", Q(last_error="The member turned off these alerts.")),
    ("stale_send", Q(last_error__startswith="The worker stopped while handing this message")),
    (
        "template_error",
        Q(last_error__startswith="TemplateDoesNotExist")
        | Q(last_error__startswith="TemplateSyntaxError"),
    ),
    ("recipient_refused", Q(last_error__startswith="AnymailRecipientsRefused")),
    ("esp_error", Q(last_error__startswith="Anymail")),
    (
        "esp_unreachable",
        Q(last_error__startswith="SMTP")
        | Q(last_error__startswith="ConnectionError")
        | Q(last_error__startswith="TimeoutError")
        | Q(last_error__startswith="OSError"),
    ),
]


def backfill(apps, schema_editor):
    Message = apps.get_model("notifications", "Message")
    # Every tenant's rows: the base manager, which has no tenant guard.
    rows = Message._base_manager.exclude(last_error="")
    for code, matches in NOTES:
        rows.filter(matches, error_code="").update(error_code=code)
    rows.filter(error_code="").update(error_code="unexpected")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_message_sealed"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="error_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("suppressed", "The address is on the suppression list, so nothing was sent."),
                    ("opted_out", "This member turned off these alerts, so nothing was sent."),
                    (
                        "stale_send",
                        "Sending was interrupted: it may or may not have reached the recipient, "
                        "so it was not retried. Ask us to resend it if the recipient did not "
                        "receive it.",
                    ),
                    (
                        "template_error",
                        "The email could not be written: its template is missing or broken.",
                    ),
                    ("recipient_refused", "The email provider refused the recipient's address."),
                    ("esp_error", "The email provider answered with an error."),
                    ("esp_unreachable", "The email provider could not be reached."),
                    ("unexpected", "Sending failed because of an unexpected error."),
                ],
                default="",
                max_length=20,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
