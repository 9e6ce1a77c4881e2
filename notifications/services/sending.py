"""The outbox's verbs: the only way other apps use notifications.

schedule() writes a Message once per idempotency key; cancel() stops a group; send_due() claims
what is due and hands it to the email backend (any anymail ESP, or Django's own).
"""

import json
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone
from django.utils.crypto import salted_hmac

from notifications.models import SEALED, Audience, Message, Suppression
from notifications.rendering import available_templates, render
from storefront_settings.models import Membership, Storefront
from storefront_settings.services import record
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


def normalise_email(address: str) -> str:
    return address.strip().lower()


def schedule(
    storefront: Storefront,
    *,
    to: str,
    template: str,
    context: dict,
    send_at: datetime,
    idempotency_key: str,
    kind: str,
    group: str = "",
    locale: str | None = None,
    audience: str = Audience.BUYER,
    about=None,
    sealed: dict[str, str] | None = None,
) -> Message:
    """Schedule one email; with a key already used, return that message and do nothing more.

    `context` must be JSON (it is stored and rendered when the message is sent, with the brand
    the storefront has then). `about` is any model instance the message concerns. `sealed`
    holds values only the recipient may read (a one-time link): they are stored encrypted,
    used for the email alone, and read as SEALED in the stored context and the body kept as
    sent, so that nobody who can read the storefront's emails log can read them.
    """
    to = normalise_email(to)
    validate_email(to)
    if template not in available_templates():
        raise TemplateDoesNotExist(f"emails/{template}/")
    if timezone.is_naive(send_at):
        raise ValueError("send_at must be timezone-aware")
    status, note = Status.SCHEDULED, ""
    if audience == Audience.BUYER and _suppressed(storefront, to):
        status, note = Status.SUPPRESSED, "The address is on the suppression list."
    message = Message(
        storefront=storefront,
        kind=kind,
        audience=audience,
        to=to,
        template=template,
        context={**context, **dict.fromkeys(sealed or {}, SEALED)},
        sealed=json.dumps(sealed) if sealed else None,
        locale=locale or storefront.language,
        idempotency_key=idempotency_key,
        group=group,
        status=status,
        last_error=note,
        send_at=send_at,
        next_attempt_at=send_at,
    )
    if about is not None:
        message.about_type = ContentType.objects.get_for_model(about)
        message.about_id = str(about.pk)
    # INSERT … ON CONFLICT DO NOTHING on (storefront, idempotency_key): concurrent callers with
    # one key all get the single row that won, never an IntegrityError.
    Message.objects.bulk_create([message], ignore_conflicts=True)
    return Message.objects.for_storefront(storefront).get(idempotency_key=idempotency_key)


def cancel(storefront: Storefront, group: str) -> int:
    """Cancel every message of a group not yet handed to the ESP; return how many."""
    if not group:
        raise ValueError("cancel needs a group")
    return (
        Message.objects.for_storefront(storefront)
        .filter(group=group, status=Status.SCHEDULED)
        .update(status=Status.CANCELLED, sealed=None, updated_at=timezone.now())
    )


def replace_in_unsent(storefront: Storefront, *, about, key: str, old: str, new: str) -> int:
    """In the messages about `about` not sent yet (scheduled, or failed and so resendable),
    replace the context value `key` when it is `old` (a revoked link); return how many."""
    unsent = (
        Message.objects.for_storefront(storefront)
        .select_for_update()
        .filter(
            about_type=ContentType.objects.get_for_model(about),
            about_id=str(about.pk),
            status__in=[Status.SCHEDULED, Status.FAILED],
            **{f"context__{key}": old},
        )
    )
    changed = 0
    for message in unsent:
        message.context = {**message.context, key: new}
        message.save(update_fields=["context", "updated_at"])
        changed += 1
    return changed


def suppress(storefront: Storefront, email: str, reason: str, note: str = "") -> Suppression:
    """Add an address to the storefront's suppression list (once) and suppress what is queued."""
    email = normalise_email(email)
    Suppression.objects.bulk_create(
        [Suppression(storefront=storefront, email=email, reason=reason, note=note)],
        ignore_conflicts=True,
    )
    _suppress_scheduled(storefront, email)
    return Suppression.objects.for_storefront(storefront).get(email=email)


def _suppress_scheduled(storefront: Storefront, email: str) -> None:
    """Suppress the buyer messages still scheduled to this (normalised) address."""
    (
        Message.objects.for_storefront(storefront)
        .filter(to=email, audience=Audience.BUYER, status=Status.SCHEDULED)
        .update(
            status=Status.SUPPRESSED,
            last_error="The address is on the suppression list.",
            updated_at=timezone.now(),
        )
    )


def _suppressed(storefront: Storefront, email: str) -> bool:
    return Suppression.objects.for_storefront(storefront).filter(email=email).exists()


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
                message.last_error = (
                    "The address is on the suppression list."
                    if message.is_buyer_facing
                    else "The member turned off these alerts."
                )
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
        _finish(message, status=Status.FAILED, last_error=_describe(error))
        report.failed += 1
        report.errors.append(_describe(error))
        return
    email = _email(message, rendered, backend)
    try:
        backend.send_messages([email])
    except Exception as error:  # noqa: BLE001 - any ESP or network failure is retried
        report.errors.append(_describe(error))
        if message.attempts >= MAX_ATTEMPTS:
            _finish(message, status=Status.FAILED, last_error=_describe(error))
            report.failed += 1
        else:
            _finish(
                message,
                status=Status.SCHEDULED,
                last_error=_describe(error),
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


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: about 30 s, 1 min, 2 min… capped at an hour."""
    delay = min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


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
        _record_about(message, actor=actor, action="message.resent")
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
        _record_about(message, actor=actor, action="message.cancelled")
    return cancelled


def _record_about(message: Message, *, actor, action: str) -> None:
    record(
        storefront=message.storefront,
        actor=actor,
        action=action,
        message=message.pk,
        template=message.template,
        to=message.to,
    )


def opt_out_member_alerts(storefront: Storefront, email: str) -> int:
    """A member stops merchant alerts for this storefront; returns how many memberships changed."""
    users = get_user_model().objects.filter(email__iexact=email)
    return (
        Membership.objects.for_storefront(storefront)
        .filter(user__in=users)
        .update(receives_alerts=False)
    )


def bring_forward(
    storefront: Storefront, *, group: str, kind: str, now: datetime | None = None
) -> Message | None:
    """Make the group's next scheduled message of this kind due now (a person asked for it);
    None when nothing of that kind is scheduled. send_due() picks it up as usual, so the
    suppression list, quiet hours and the daily cap still apply."""
    if not group:
        raise ValueError("bring_forward needs a group")
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.for_storefront(storefront)
            .select_for_update()
            .filter(group=group, kind=kind, status=Status.SCHEDULED)
            .order_by("next_attempt_at", "pk")
            .first()
        )
        if message is not None and message.next_attempt_at > now:
            message.next_attempt_at = now
            message.save(update_fields=["next_attempt_at", "updated_at"])
    return message


# Suppressions a storefront's team manages from the dashboard.
#
# Which reasons the team may lift, and why:
# - manual: the team added it, so the team may take it back.
# - bounced: not a buyer's choice but a fact about the address (it did not exist, or refused
#   mail). It can stop being true (a full mailbox emptied, a domain back up, the buyer says it
#   works again), so lifting is allowed, but only with an explicit confirmation that someone
#   checked: every bounce costs the shared sending address some reputation. If the address still
#   bounces, the ESP's next bounce puts it back on the list by itself.
# - unsubscribed: the buyer asked us to stop. Consent is the buyer's to give back, not the
#   merchant's, so it is never lifted here.
# - complained: the buyer marked an email as spam, the strongest "stop" there is; ESPs require
#   that such addresses are not written to again, and all storefronts send from one platform
#   address, so one shop's complaints would hurt every shop's delivery. Never lifted here.
LIFTABLE = frozenset({Suppression.Reason.MANUAL})
LIFTABLE_IF_CONFIRMED = frozenset({Suppression.Reason.BOUNCED})


class AlreadySuppressed(Exception):
    """The address is already on the list (`suppression` is the row that holds it)."""

    def __init__(self, suppression: Suppression):
        super().__init__(f"{suppression.email} is already suppressed ({suppression.reason})")
        self.suppression = suppression


class CannotLift(Exception):
    """This suppression may not be lifted by the storefront's team, or not without confirming."""

    def __init__(self, suppression: Suppression, *, needs_confirmation: bool):
        super().__init__(f"suppression {suppression.pk} ({suppression.reason}) cannot be lifted")
        self.suppression = suppression
        self.needs_confirmation = needs_confirmation


@transaction.atomic
def add_manual_suppression(
    *, storefront: Storefront, email: str, note: str = "", actor
) -> Suppression:
    """A member puts an address on the list by hand; what is queued for it is suppressed.
    Raises AlreadySuppressed when the address is on the list already, whatever the reason."""
    email = normalise_email(email)
    validate_email(email)
    # get_or_create survives a concurrent insert of the same address (the unique constraint).
    suppression, created = Suppression.objects.get_or_create(
        storefront=storefront,
        email=email,
        defaults={"reason": Suppression.Reason.MANUAL, "note": note},
    )
    if not created:
        raise AlreadySuppressed(suppression)
    _suppress_scheduled(storefront, email)
    record(storefront=storefront, actor=actor, action="suppression.added", email=email, note=note)
    return suppression


def sender(storefront: Storefront) -> tuple[str, str]:
    """The From and Reply-To (or "") that this storefront's emails carry now."""
    return _from_address(storefront), storefront.support_email


def can_lift(suppression: Suppression) -> bool | None:
    """True: may be lifted; None: only with a confirmation; False: never by the team."""
    if suppression.reason in LIFTABLE:
        return True
    if suppression.reason in LIFTABLE_IF_CONFIRMED:
        return None
    return False


@transaction.atomic
def lift_suppression(
    *, storefront: Storefront, suppression: Suppression, actor, confirmed: bool = False
) -> bool:
    """Take an address off the list (see LIFTABLE for which may be). Nothing is resent: the
    messages suppressed so far stay suppressed; only what is scheduled from now on goes out.
    Returns False when the row was already gone; raises CannotLift when it may not be lifted."""
    allowed = can_lift(suppression)
    if allowed is False or (allowed is None and not confirmed):
        raise CannotLift(suppression, needs_confirmation=allowed is None)
    deleted, _ = (
        Suppression.objects.for_storefront(storefront)
        .filter(pk=suppression.pk, reason=suppression.reason)
        .delete()
    )
    if not deleted:
        return False
    record(
        storefront=storefront,
        actor=actor,
        action="suppression.lifted",
        email=suppression.email,
        reason=suppression.reason,
        confirmed=confirmed,
    )
    return True
