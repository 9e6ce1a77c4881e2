from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from storefront_settings.fields import EncryptedTextField
from storefront_settings.models import Language, Storefront
from storefront_settings.tenancy import TenantModel


class Audience(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    MERCHANT = "merchant", _("Merchant")


class MessageKind(models.TextChoices):
    """What a message is for, as the apps that schedule it name it (Message.kind) and the
    emails log filters it. The email provider gets it as the message's tag."""

    PAYMENT_RECOVERY = "payment_recovery", _("Payment recovery emails")
    MERCHANT_FAILED_PAYMENT_ALERT = (
        "merchant_failed_payment_alert",
        _("Failed payment alerts to your team"),
    )
    MERCHANT_DAILY_DIGEST = "merchant_daily_digest", _("Daily digests to your team")
    SHIPMENT_UPDATE = "shipment_update", _("Shipment emails")
    MEMBER_INVITATION = "member_invitation", _("Invitations to join your team")
    TEST = "test", _("Test emails")


# What a sealed value reads as everywhere but in the email itself.
SEALED = "[hidden]"


class Message(TenantModel):
    """One email, from the moment it is scheduled to what the ESP said about it.

    Lifecycle: scheduled → sending → sent / failed, or scheduled → cancelled / suppressed. A row
    is claimed (scheduled → sending, committed) before it is handed to the ESP, so a second
    worker never sends it again; `next_attempt_at` is when it may next be claimed, moved by
    quiet hours, the daily cap and retries, while `send_at` keeps the time the caller asked for.
    A row left in `sending` by a worker that died is in doubt: sending.fail_stale_sends() sends
    it again or fails it, and its error code (IN_DOUBT or STALE_SEND) says it may have been sent.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        SUPPRESSED = "suppressed", _("Suppressed")

    class Delivery(models.TextChoices):
        """What the ESP reported after sending; later, stronger news replaces earlier."""

        NONE = "", _("No news")
        DEFERRED = "deferred", _("Deferred")
        DELIVERED = "delivered", _("Delivered")
        OPENED = "opened", _("Opened")
        CLICKED = "clicked", _("Clicked")
        REJECTED = "rejected", _("Rejected")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")

    class ErrorCode(models.TextChoices):
        """Why a message did not go (yet), as the outbox decided it: the emails page explains a
        message from this code (its label), never from `last_error`, the technical detail kept
        for ops (the exception's text, which may quote a provider's response). Blank: no error.
        IN_DOUBT stays on a message once it is sent: it may have arrived twice."""

        SUPPRESSED = "suppressed", _("The address is on the suppression list, so nothing was sent.")
        OPTED_OUT = "opted_out", _("This member turned off these alerts, so nothing was sent.")
        STALE_SEND = (
            "stale_send",
            _(
                "Sending was interrupted: it may or may not have reached the recipient, so it was "
                "not retried. Ask us to resend it if the recipient did not receive it."
            ),
        )
        IN_DOUBT = (
            "in_doubt",
            _(
                "Sending was interrupted and this email may already have reached the recipient; "
                "it is sent again, so the recipient may receive it twice."
            ),
        )
        TEMPLATE_ERROR = (
            "template_error",
            _("The email could not be written: its template is missing or broken."),
        )
        RECIPIENT_REFUSED = (
            "recipient_refused",
            _("The email provider refused the recipient's address."),
        )
        ESP_ERROR = "esp_error", _("The email provider answered with an error.")
        ESP_UNREACHABLE = "esp_unreachable", _("The email provider could not be reached.")
        UNEXPECTED = "unexpected", _("Sending failed because of an unexpected error.")

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=60, help_text="A short machine name: payment_recovery…")
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.BUYER)
    to = models.EmailField()
    template = models.CharField(max_length=100)
    context = models.JSONField(default=dict, blank=True)
    # Sealed values (a link that works as a credential): JSON, encrypted, read only to send the
    # email and dropped once it is sent or cancelled. `context` holds SEALED under the same
    # names, so every other reader (the emails log, its preview, the API, the body kept as
    # sent) shows the placeholder. See notifications.services.outbox.schedule.
    sealed = EncryptedTextField(null=True, blank=True, editable=False)
    locale = models.CharField(max_length=5, choices=Language.choices)
    idempotency_key = models.CharField(max_length=200)
    group = models.CharField(max_length=200, blank=True, db_index=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    send_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=20, choices=ErrorCode.choices, blank=True, default="")
    last_error = models.TextField(blank=True)

    # As sent: what the buyer actually received, kept for the merchant and for ops.
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    esp_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    delivery = models.CharField(max_length=12, choices=Delivery.choices, blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)

    # What the message is about (a lost sale, a shipment…), without knowing its app.
    about_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    about_id = models.CharField(max_length=64, blank=True)
    about = GenericForeignKey("about_type", "about_id")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storefront", "idempotency_key"], name="uniq_message_idempotency_key"
            ),
        ]
        indexes = [
            # The claim query: due scheduled messages, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="scheduled"),
                name="message_due",
            ),
            # The daily cap: recent messages to one recipient.
            models.Index(fields=["storefront", "to", "last_attempt_at"], name="message_recipient"),
            # The dashboard's log of a storefront's emails, newest first.
            models.Index(fields=["storefront", "-send_at", "-id"], name="message_log"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.to} ({self.status})"

    @property
    def is_buyer_facing(self) -> bool:
        return self.audience == Audience.BUYER


class Suppression(TenantModel):
    """An address this storefront never writes to again (buyer messages)."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        MANUAL = "manual", _("Added by hand")

    storefront = models.ForeignKey(
        Storefront, on_delete=models.CASCADE, related_name="suppressions"
    )
    email = models.EmailField(help_text="Stored lower-case.")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["storefront", "email"], name="uniq_suppression"),
        ]

    def __str__(self):
        return f"{self.email} ({self.reason})"

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class EmailEvent(TenantModel):
    """One event an ESP reported about a sent message, stored once per ESP event id."""

    storefront = models.ForeignKey(
        Storefront, on_delete=models.CASCADE, related_name="email_events"
    )
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    esp = models.CharField(max_length=40)
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=30)
    occurred_at = models.DateTimeField(null=True, blank=True)
    description = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storefront", "esp", "event_id"], name="uniq_email_event"
            ),
        ]

    def __str__(self):
        return f"{self.esp} {self.event_type} for message {self.message_id}"
