"""Sending: send_due() claims what is due, one message at a time, applies the guards (suppression
list, quiet hours, the daily cap) and hands each message to the email backend (any anymail ESP,
or Django's own), retrying with backoff; send_now() does the same for the messages named (those
due when they were scheduled: outbox.schedule enqueues them on commit); fail_stale_sends() deals
with a message whose worker died while handing it over; what ops do about a message that did
not go (resend, cancel_message).

At least once, and at most one message in doubt per worker. A message is claimed alone, in a
short transaction of its own: the oldest due one is locked with SELECT … FOR UPDATE SKIP LOCKED
(another worker skips it and takes the next), the guards are applied to it, and it is committed
as `sending` before it is handed to the backend; its outcome is written once the backend
answers. So a worker has at most one message in `sending` at any moment, the one it is handing
over: killed anywhere, it leaves that one in doubt and every other due message `scheduled`,
claimable by the next run (the beat tick, every 5 s). A batch claimed as one (up to 50 marked
`sending`, then sent one by one) stranded the whole batch on one crash; a batch with a lease
would strand it until the lease ran out, and the lease would have to outlast the slowest ESP.
The price is one short transaction per message, small beside an ESP's HTTP round trip
(bench/send_due.py measures it with the locmem backend, which costs nothing).

The message in doubt may or may not have reached the ESP: the ESP's answer died with the worker.
fail_stale_sends() finds it once no worker can still be sending it. If the ESP's tracking
webhooks have reported on it since (they name it through the metadata it carried), it is marked
sent; otherwise, per settings.EMAIL_RESEND_IN_DOUBT, it is sent again (a duplicate at worst: by
default for the merchant's alerts, which matter more than a repeat) or marked failed for a
person to resend (by default for buyers, to whom a repeat is a nuisance). Either way its error
code says it may have been sent. A second attempt carries the same Message-ID header as the
first (message_id_header), so the two copies are recognisably one message.
"""

import json
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone
from django.utils.crypto import salted_hmac

from notifications.models import Audience, Message, Suppression
from notifications.rendering import render
from notifications.services import due_now
from notifications.services.outbox import normalise_email
from storefront_settings.models import AuditAction, Membership, Storefront
from storefront_settings.services.audit import record
from storefront_settings.tenancy import lock_keys

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
CAP_WINDOW = timedelta(hours=24)
# A message left in `sending` this long belongs to a worker that died mid-send: Celery's time
# limit (CELERY_TASK_TIME_LIMIT, 5 minutes) has ended any task still sending by then.
STALE_SEND = timedelta(minutes=15)
# What ops read in admin about a message in doubt (the page explains its error code).
IN_DOUBT_NOTE = (
    "The worker stopped while handing this message to the email provider, so it may have been "
    "sent then; it is sent again (EMAIL_RESEND_IN_DOUBT), so it may have arrived twice."
)
STALE_SEND_NOTE = (
    "The worker stopped while handing this message to the email provider. It may have been "
    "sent, so it was not retried; resend it if the recipient did not receive it."
)

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


def send_due(*, now: datetime | None = None, max_seconds: float | None = None) -> SendReport:
    """Send every message that is due, one claim at a time; safe to run in several workers at once.

    With max_seconds, no new message is claimed after that long, so a beat task stays well inside
    Celery's time limit."""
    report = SendReport()
    started = time.monotonic()
    with _Backend() as backend:
        while max_seconds is None or time.monotonic() - started < max_seconds:
            moment = now or timezone.now()
            found, message = _claim(moment, report)
            if not found:
                break
            if message is not None:
                _deliver(message, backend.connection(), report, moment)
    return report


def send_now(message_ids: Iterable[int], *, now: datetime | None = None) -> SendReport:
    """Send these messages, each if it is still scheduled and due, through the same claim and
    guards as send_due(): a message that the beat tick (or another worker) has claimed already
    is skipped, one in quiet hours is deferred. outbox.schedule() enqueues this, on commit, for
    the messages due when they are scheduled, so they need not wait for the tick."""
    report = SendReport()
    with _Backend() as backend:
        for message_id in message_ids:
            moment = now or timezone.now()
            _, message = _claim(moment, report, message_id=message_id)
            if message is not None:
                _deliver(message, backend.connection(), report, moment)
    return report


class _Backend:
    """The email backend's connection, opened for the first message handed over, closed at the
    end: a run that finds nothing to send (most beat ticks) opens none."""

    def __init__(self):
        self._connection = None

    def connection(self):
        if self._connection is None:
            self._connection = get_connection()
            self._connection.open()
        return self._connection

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._connection is not None:
            self._connection.close()
        return False


# The claimed message's recipient on its storefront's suppression list (buyer messages).
_suppression_of_recipient = Suppression.unscoped.filter(
    storefront_id=OuterRef("storefront_id"), email=OuterRef("to")
)


def _claim(
    now: datetime, report: SendReport, *, message_id: int | None = None
) -> tuple[bool, Message | None]:
    """Lock the oldest due message (or the one named), skipping any another worker holds, apply
    the guards to it, and commit it as `sending` if it goes now: the only message of this worker
    in `sending` until its outcome is written (see the module's docstring). Returns (False, None)
    when nothing was due, (True, None) when the message found was suppressed or deferred, and
    (True, message) for the message to hand to the backend."""
    with transaction.atomic():
        due = (
            # Beat jobs serve every tenant: crossing tenants is the point here.
            Message.unscoped.select_for_update(skip_locked=True, of=("self",))
            .select_related("storefront")
            # Read with the claim rather than in a query of its own: a round trip less each.
            .annotate(on_suppression_list=Exists(_suppression_of_recipient))
            .filter(status=Status.SCHEDULED, next_attempt_at__lte=now)
        )
        if message_id is not None:
            due = due.filter(pk=message_id)
        message = due.order_by("next_attempt_at").first()
        if message is None:
            return False, None
        if message.is_buyer_facing:
            blocked = message.on_suppression_list
            _lock_recipient(message)
        else:
            blocked = _opted_out(message)
        to_send = None
        if blocked:
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
            to_send = message
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
    return True, to_send


def _opted_out(message: Message) -> bool:
    """Whether the member a merchant message is for turned these alerts off."""
    addresses = Membership.unscoped.filter(
        storefront_id=message.storefront_id, receives_alerts=False
    ).values_list("user__email", flat=True)
    return message.to in {normalise_email(address) for address in addresses}


def _lock_recipient(message: Message) -> None:
    # The daily cap counts what was sent to one buyer; two workers deciding for the same buyer
    # at once would both see room for one more. A transaction-scoped advisory lock per
    # recipient serialises them.
    lock_keys([f"{message.storefront_id}:{message.to}"])


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
            fields = _error_fields(error)
            if message.error_code == ErrorCode.IN_DOUBT:
                # Sent again after an interruption: the first copy may still have arrived.
                fields["error_code"] = ErrorCode.IN_DOUBT
            _finish(
                message,
                status=Status.SCHEDULED,
                **fields,
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
    # Sent after an interruption, it stays marked: the recipient may have two copies.
    in_doubt = message.error_code == ErrorCode.IN_DOUBT
    _finish(
        message,
        status=Status.SENT,
        sent_at=timezone.now(),
        error_code=ErrorCode.IN_DOUBT if in_doubt else "",
        last_error=IN_DOUBT_NOTE if in_doubt else "",
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
        "Message-ID": message_id_header(message),
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


MESSAGE_ID_SALT = "notifications.message-id"


def message_id_header(message: Message) -> str:
    """The Message-ID header of a message: the same at every attempt, as RFC 5322 (3.6.4) has
    it for one message, so a copy sent again after an interruption is recognisably the first
    one (in the ESP's log, and to a mail system that recognises a repeat by its Message-ID);
    unique across deployments through a keyed hash (SECRET_KEY) of the storefront and message.
    Some ESPs replace it with their own (anymail documents which); the ESP's id is kept then."""
    value = f"{message.storefront.public_id}:{message.pk}"
    digest = salted_hmac(MESSAGE_ID_SALT, value, algorithm="sha256").hexdigest()[:24]
    return f"<aftersale.{message.pk}.{digest}@{_mail_domain()}>"


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
    """Deal with the messages whose worker died while handing them to the ESP (in `sending`
    for longer than STALE_SEND, so no worker is still at it); returns how many.

    Such a message may or may not have reached the ESP. If the ESP has reported on it since (an
    event of its tracking webhooks, matched through the metadata the message carried), it did:
    it is marked sent. Otherwise whether to send it again is a trade, a repeat against a loss.
    The audiences in settings.EMAIL_RESEND_IN_DOUBT (by default the merchant's, whose alert
    about a failed payment must not be lost) get it again, due at once and marked IN_DOUBT,
    which it keeps once sent; the others (by default buyers, to whom a repeated email is a
    nuisance) find it `failed` (STALE_SEND) for ops to resend from admin. A message that has
    had all its attempts is failed either way: one that kills its worker every time must not
    be retried forever."""
    now = now or timezone.now()
    stale = Message.unscoped.filter(status=Status.SENDING, last_attempt_at__lt=now - STALE_SEND)
    # The ESP's tracking webhooks named it (through the metadata it carried; notifications.events):
    # the ESP had it, so it was sent when it was handed over, and is not in doubt.
    confirmed = stale.filter(events__isnull=False).update(
        status=Status.SENT,
        sent_at=F("last_attempt_at"),
        updated_at=now,
        error_code="",
        last_error="",
        sealed=None,
    )
    resent = stale.filter(
        audience__in=settings.EMAIL_RESEND_IN_DOUBT, attempts__lt=MAX_ATTEMPTS
    ).update(
        status=Status.SCHEDULED,
        next_attempt_at=now,
        updated_at=now,
        error_code=ErrorCode.IN_DOUBT,
        last_error=IN_DOUBT_NOTE,
    )
    # The same query again: what is still `sending` once the resent ones are scheduled.
    failed = stale.update(
        status=Status.FAILED,
        updated_at=now,
        error_code=ErrorCode.STALE_SEND,
        last_error=STALE_SEND_NOTE,
    )
    if confirmed or resent or failed:
        logger.warning(
            "interrupted sends: %s confirmed by the ESP, %s sent again, %s marked failed",
            confirmed,
            resent,
            failed,
        )
    return confirmed + resent + failed


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
        due_now.send_on_commit(message.pk)
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
