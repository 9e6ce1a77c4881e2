"""The suppression list: addresses a storefront's buyer emails must not go to. The ESP's events
and the unsubscribe link add to it (suppress); the storefront's team adds and lifts by hand."""

from django.contrib.auth import get_user_model
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from notifications.models import Audience, Message, Suppression
from notifications.services.outbox import normalise_email
from storefront_settings.models import AuditAction, Membership, Storefront
from storefront_settings.services.audit import record

Status = Message.Status


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
            error_code=Message.ErrorCode.SUPPRESSED,
            last_error="The address is on the suppression list.",
            updated_at=timezone.now(),
        )
    )


def opt_out_member_alerts(storefront: Storefront, email: str) -> int:
    """A member stops merchant alerts for this storefront; returns how many memberships changed."""
    users = get_user_model().objects.filter(email__iexact=email)
    return (
        Membership.objects.for_storefront(storefront)
        .filter(user__in=users)
        .update(receives_alerts=False)
    )


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
    record(
        storefront=storefront,
        actor=actor,
        action=AuditAction.SUPPRESSION_ADDED,
        email=email,
        note=note,
    )
    return suppression


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
        action=AuditAction.SUPPRESSION_LIFTED,
        email=suppression.email,
        reason=suppression.reason,
        confirmed=confirmed,
    )
    return True
