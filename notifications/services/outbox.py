"""The outbox: schedule() writes a Message once per idempotency key; cancel() stops a group;
what is not sent yet can still be changed (replace_in_unsent) or made due now (bring_forward).
sending.send_due() hands what is due to the email backend; a message due when it is scheduled is
enqueued on commit (due_now), so it does not wait for send_due's beat tick."""

import json
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.utils import timezone

from notifications.models import SEALED, Audience, Message, Suppression
from notifications.rendering import available_templates
from notifications.services import due_now
from storefront_settings.models import Storefront

Status = Message.Status


def normalise_email(address: str) -> str:
    return address.strip().lower()


def is_valid_address(address: str) -> bool:
    """Whether schedule() takes this address: valid for Django's validator, and within the 254
    characters of RFC 5321 (Message.to). An address that came from outside (a provider's event)
    is checked first, and one refused is kept aside rather than fail its whole transaction."""
    address = normalise_email(address)
    if len(address) > Message._meta.get_field("to").max_length:
        return False
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


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
    status, code, note = Status.SCHEDULED, "", ""
    if audience == Audience.BUYER and _suppressed(storefront, to):
        status, code = Status.SUPPRESSED, Message.ErrorCode.SUPPRESSED
        note = "The address is on the suppression list."
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
        error_code=code,
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
    message = Message.objects.for_storefront(storefront).get(idempotency_key=idempotency_key)
    if message.status == Status.SCHEDULED and message.next_attempt_at <= timezone.now():
        # Due now: sent on commit, not at the next beat tick (due_now).
        due_now.send_on_commit(message.pk)
    return message


def _suppressed(storefront: Storefront, email: str) -> bool:
    return Suppression.objects.for_storefront(storefront).filter(email=email).exists()


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


def bring_forward(
    storefront: Storefront, *, group: str, kind: str, now: datetime | None = None
) -> Message | None:
    """Make the group's next scheduled message of this kind due now (a person asked for it);
    None when nothing of that kind is scheduled. It is enqueued on commit like any message due
    now, and sent through the same claim as send_due(), so the suppression list, quiet hours
    and the daily cap still apply."""
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
            due_now.send_on_commit(message.pk)
    return message
