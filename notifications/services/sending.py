"""Sending: send_due() claims what is due, applies the guards (suppression list, quiet hours,
the daily cap) and hands each message to the email backend (any anymail ESP, or Django's own),
retrying with backoff; what ops do about a message that did not go (resend, cancel_message)."""

import json
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone
from django.utils.crypto import salted_hmac

from notifications.models import Audience, Message, Suppression
from notifications.rendering import render
from notifications.services.outbox import normalise_email
from storefront_settings.models import AuditAction, Membership, Storefront
from storefront_settings.services.audit import record
from storefront_settings.tenancy import lock_keys

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
CAP_WINDOW = timedelta(hours=24)
# A message left in `sending` this long belongs to a worker that died mid-send.
STALE_SEND = timedelta(minutes=15)
CLAIM_BATCH = 50

Status = Message.Status
ErrorCode = Message.ErrorCode


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return self.sent + self.retried + self.failed


def send_due(
    *, now: datetime | None = None, batch_size: int = CLAIM_BATCH, max_seconds: float | None = None
) -> SendReport:
    """Send every message that is due, batch by batch; safe to run in several workers at once.

    With max_seconds, no new batch is claimed after that long, so a beat task stays well inside
    Celery's time limit (a task killed mid-send leaves messages in `sending`)."""
    report = SendReport()
    started = time.monotonic()
    with get_connection() as backend:
        while max_seconds is None or time.monotonic() - started < max_seconds:
            batch_time = now or timezone.now()
            claimed = _claim(batch_time, batch_size, report)
            if claimed is None:
                break
            for message in claimed:
                _deliver(message, backend, report, batch_time)
    return report


def _claim(now: datetime, batch_size: int, report: SendReport) -> list[Message] | None:
    """Lock a batch of due messages (skipping those another worker holds), apply the guards,
    and commit the ones to send as `sending` before any is handed to the ESP. None when
    nothing was due."""
    with transaction.atomic():
        due = list(
            # Beat jobs serve every tenant: crossing tenants is the point here.
            Message.unscoped.select_for_update(skip_locked=True, of=("self",))
            .select_related("storefront")
            .filter(status=Status.SCHEDULED, next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:batch_size]
        )
        if not due:
            return None
        suppressed = _suppressed_recipients(due)
        _lock_recipients(due)
        to_send = []
        for message in due:
            if (message.storefront_id, message.to, message.audience) in suppressed:
                message.status = Status.SUPPRESSED
                if message.is_buyer_facing:
                    message.error_code = ErrorCode.SUPPRESSED
                    message.last_error = "The address is on the suppression list."
                else:
                    message.error_code = ErrorCode.OPTED_OUT
                    message.last_error = "The member turned off these alerts."
                report.suppressed += 1
            elif later := _guard(message, now):
                message.next_attempt_at = later
                report.deferred += 1
            else:
                message.status = Status.SENDING
                message.attempts += 1
                message.last_attempt_at = now
                to_send.append(message)
            message.save(
                update_fields=[
                    "status",
                    "error_code",
                    "last_error",
                    "next_attempt_at",
                    "attempts",
                    "last_attempt_at",
                    "updated_at",
                ]
            )
    return to_send


def _suppressed_recipients(messages: list[Message]) -> set[tuple[int, str, str]]:
    """(storefront, address, audience) of the batch that must not be written to."""
    storefront_ids = {m.storefront_id for m in messages}
    addresses = {m.to for m in messages}
    blocked = {
        (storefront_id, email, Audience.BUYER)
        for storefront_id, email in Suppression.unscoped.filter(
            storefront_id__in=storefront_ids, email__in=addresses
        ).values_list("storefront_id", "email")
    }
    opted_out = Membership.unscoped.filter(
        storefront_id__in=storefront_ids, receives_alerts=False
    ).values_list("storefront_id", "user__email")
    blocked |= {(sid, normalise_email(email), Audience.MERCHANT) for sid, email in opted_out}
    return blocked


def _lock_recipients(messages: list[Message]) -> None:
    # The daily cap counts what was sent to one buyer; two workers deciding for the same buyer
    # at once would both see room for one more. A transaction-scoped advisory lock per
    # recipient serialises them; taking the locks in sorted order rules out deadlock.
    lock_keys(f"{m.storefront_id}:{m.to}" for m in messages if m.is_buyer_facing)


def _guard(message: Message, now: datetime) -> datetime | None:
    """When a buyer message must wait (quiet hours, daily cap), the time it may go; else None."""
    if not message.is_buyer_facing:
        return None
    storefront = message.storefront
    if quiet_end := storefront.quiet_hours_end_after(now):
        return quiet_end
    recent = (
        Message.objects.for_storefront(storefront)
        .filter(
            to=message.to,
            audience=Audience.BUYER,
            status__in=[Status.SENDING, Status.SENT],
            last_attempt_at__gt=now - CAP_WINDOW,
        )
        .order_by("last_attempt_at")
        .values_list("last_attempt_at", flat=True)
    )
    recent = list(recent[: storefront.buyer_messages_per_day])
    if len(recent) >= storefront.buyer_messages_per_day:
        return recent[0] + CAP_WINDOW
    return None


def _render(message: Message, context: dict):
    return render(
        template=message.template,
        storefront=message.storefront,
        context=context,
        locale=message.locale,
        recipient=message.to,
        audience=message.audience,
    )


def _deliver(message: Message, backend, report: SendReport, now: datetime) -> None:
    try:
        # What is kept as sent is written from the stored context, where sealed values are
        # SEALED; only the email handed to the ESP is written with them.
        rendered = kept = _render(message, message.context)
        if message.sealed:
            rendered = _render(message, {**message.context, **json.loads(message.sealed)})
    except (TemplateDoesNotExist, TemplateSyntaxError) as error:
        # A broken template will not mend itself: fail now rather than retry.
        _finish(message, status=Status.FAILED, **_error_fields(error))
        report.failed += 1
        report.errors.append(_describe(error))
        return
    email = _email(message, rendered, backend)
    try:
        backend.send_messages([email])
    except Exception as error:  # noqa: BLE001 - any ESP or network failure is retried
        report.errors.append(_describe(error))
        if message.attempts >= MAX_ATTEMPTS:
            _finish(message, status=Status.FAILED, **_error_fields(error))
            report.failed += 1
        else:
            _finish(
                message,
                status=Status.SCHEDULED,
                **_error_fields(error),
                next_attempt_at=now + retry_delay(message.attempts),
            )
            report.retried += 1
        logger.warning(
            "message %s not sent (attempt %s): %s",
            message.pk,
            message.attempts,
            type(error).__name__,
        )
        return
    # An anymail ESP gives its own id (what its webhooks will name); Django's backends do not.
    esp_id = getattr(getattr(email, "anymail_status", None), "message_id", None)
    if esp_id is None:
        esp_id = email.extra_headers["Message-ID"]
    _finish(
        message,
        status=Status.SENT,
        sent_at=timezone.now(),
        error_code="",
        last_error="",
        esp_message_id=str(esp_id)[:200],
        subject=kept.subject[:300],
        body_text=kept.text,
        body_html=kept.html,
        sealed=None,
    )
    report.sent += 1


def _email(message: Message, rendered, backend) -> EmailMultiAlternatives:
    storefront = message.storefront
    headers = {
        "Message-ID": make_msgid(idstring=f"m{message.pk}", domain=_mail_domain()),
        # RFC 8058 one-click unsubscribe: mail clients POST to the link with no cookie.
        "List-Unsubscribe": f"<{rendered.unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Aftersale-Message": str(message.pk),
    }
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=_from_address(storefront),
        to=[message.to],
        headers=headers,
        connection=backend,
    )
    if storefront.support_email:
        email.reply_to = [storefront.support_email]
    email.attach_alternative(rendered.html, "text/html")
    # Read by anymail backends, ignored by Django's own: the ESP echoes them in its webhooks.
    email.metadata = esp_metadata(message)
    email.tags = [message.kind]
    return email


ESP_METADATA_SALT = "notifications.esp-metadata"


def esp_metadata_token(storefront_public_id: str, message_id: int | str) -> str:
    """The unguessable token that proves an ESP event's metadata names a message we sent: a
    keyed hash of the storefront's public id and the message's id, so nothing is stored."""
    value = f"{storefront_public_id}:{message_id}"
    return salted_hmac(ESP_METADATA_SALT, value, algorithm="sha256").hexdigest()[:32]


def esp_metadata(message: Message) -> dict[str, str]:
    """What the ESP carries with a message and echoes in its webhooks (notifications.events)."""
    public_id = message.storefront.public_id
    return {
        "storefront": public_id,
        "message": str(message.pk),
        "token": esp_metadata_token(public_id, message.pk),
    }


def _from_address(storefront: Storefront) -> str:
    # The shop's name as display name, on the platform's verified sending address.
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((storefront.name, address))


def _mail_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"


def sender(storefront: Storefront) -> tuple[str, str]:
    """The From and Reply-To (or "") that this storefront's emails carry now."""
    return _from_address(storefront), storefront.support_email


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: about 30 s, 1 min, 2 min… capped at an hour."""
    delay = min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def error_code(error: Exception) -> str:
    """The kind of a send failure, from the exception's class: the emails page explains the
    code; the exception's text stays in `last_error` for ops."""
    name = type(error).__name__
    if isinstance(error, TemplateDoesNotExist | TemplateSyntaxError):
        return ErrorCode.TEMPLATE_ERROR
    if name == "AnymailRecipientsRefused":
        return ErrorCode.RECIPIENT_REFUSED
    if name.startswith("Anymail"):
        return ErrorCode.ESP_ERROR
    if name.startswith("SMTP") or name in ("ConnectionError", "TimeoutError", "OSError"):
        return ErrorCode.ESP_UNREACHABLE
    return ErrorCode.UNEXPECTED


def _error_fields(error: Exception) -> dict[str, str]:
    return {"error_code": error_code(error), "last_error": _describe(error)}


def _finish(message: Message, *, status: str, **fields) -> None:
    """Record the outcome of a send, only if the row is still ours (`sending`)."""
    Message.objects.for_storefront(message.storefront).filter(
        pk=message.pk, status=Status.SENDING
    ).update(status=status, updated_at=timezone.now(), **fields)


def fail_stale_sends(*, now: datetime | None = None) -> int:
    """Mark messages whose worker died mid-send as failed, for a person to look at.

    Such a message may or may not have reached the ESP. Retrying it could send it twice, so it
    is not retried: ops see it in admin with this explanation and can resend it."""
    now = now or timezone.now()
    return Message.unscoped.filter(
        status=Status.SENDING, last_attempt_at__lt=now - STALE_SEND
    ).update(
        status=Status.FAILED,
        updated_at=now,
        error_code=ErrorCode.STALE_SEND,
        last_error=(
            "The worker stopped while handing this message to the email provider. It may have "
            "been sent, so it was not retried; resend it if the recipient did not receive it."
        ),
    )


@transaction.atomic
def resend(message: Message, *, actor=None) -> bool:
    """Put a failed message back in the queue, due now (ops' action in admin)."""
    now = timezone.now()
    resent = bool(
        Message.objects.for_storefront(message.storefront)
        .filter(pk=message.pk, status=Status.FAILED)
        .update(status=Status.SCHEDULED, next_attempt_at=now, attempts=0, updated_at=now)
    )
    if resent:
        _record_about(message, actor=actor, action=AuditAction.MESSAGE_RESENT)
    return resent


@transaction.atomic
def cancel_message(message: Message, *, actor=None) -> bool:
    """Cancel one scheduled message (ops' action in admin); False when it was not scheduled."""
    cancelled = bool(
        Message.objects.for_storefront(message.storefront)
        .filter(pk=message.pk, status=Status.SCHEDULED)
        .update(status=Status.CANCELLED, updated_at=timezone.now())
    )
    if cancelled:
        _record_about(message, actor=actor, action=AuditAction.MESSAGE_CANCELLED)
    return cancelled


def _record_about(message: Message, *, actor, action: AuditAction) -> None:
    record(
        storefront=message.storefront,
        actor=actor,
        action=action,
        message=message.pk,
        template=message.template,
        to=message.to,
    )
