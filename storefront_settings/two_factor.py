"""A user's second factor: a TOTP authenticator app (django-otp's TOTPDevice) and recovery codes
(its StaticDevice, each code good once). The devices belong to the user, not to a storefront:
one authenticator serves every storefront the user belongs to. Turning it on or off leaves an
audit row on each of them, so owners see it."""

import re

from django.db import transaction
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from storefront_settings.models import AuditAction, Membership, Storefront
from storefront_settings.services.audit import record

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_CODES_NAME = "Recovery codes"

_TOTP_CODE = re.compile(r"[0-9]{6}")
_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_code(code: str) -> str:
    """A code as typed ("123 456", "ABCD-EFGH") as the devices compare it."""
    return _SEPARATORS.sub("", code or "").lower()


def has_two_factor(user) -> bool:
    """Whether logging in takes a code after the password: a confirmed device of any kind."""
    return user_has_device(user, confirmed=True)


def authenticator(*, user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("-pk").first()


def pending_authenticator(*, user) -> TOTPDevice | None:
    """The authenticator being set up: shown as a QR code, not yet confirmed by a code."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("-pk").first()


def recovery_codes_left(*, user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def device_for_code(user, code: str, *, for_verify: bool = False):
    """The one device a code is checked against: six digits are the authenticator's, anything
    else a recovery code. Trying every device in turn would count a failure against each
    (django-otp throttles each device), slowing down the one the user did not use."""
    model = TOTPDevice if _TOTP_CODE.fullmatch(code or "") else StaticDevice
    devices = model.objects.devices_for_user(user, confirmed=True).order_by("-pk")
    if for_verify:
        devices = devices.select_for_update()
    return devices.first()


def _member_of(user) -> list[Storefront]:
    return [member.storefront for member in user.memberships.select_related("storefront")]


def _record_everywhere(*, user, actor, action: AuditAction, **detail) -> None:
    who = user.email or user.get_username()
    for storefront in _member_of(user):
        record(storefront=storefront, actor=actor, action=action, member=who, **detail)


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_CODES_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def start_authenticator(*, user) -> TOTPDevice:
    """A new secret for the user's authenticator app, unconfirmed until the app's first code
    is given (confirm_authenticator); an earlier unfinished setup is dropped."""
    TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


@transaction.atomic
def confirm_authenticator(*, user, device: TOTPDevice) -> list[str]:
    """Turn two-factor on with `device`, whose code the caller has just checked; returns the
    new recovery codes, to be shown once."""
    if device.user_id != user.pk:
        raise ValueError("not this user's device")
    TOTPDevice.objects.devices_for_user(user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    _record_everywhere(user=user, actor=user, action=AuditAction.MEMBER_TWO_FACTOR_ENABLED)
    return codes


@transaction.atomic
def renew_recovery_codes(*, user) -> list[str]:
    """A new set of recovery codes; the old ones stop working."""
    codes = _new_recovery_codes(user)
    _record_everywhere(user=user, actor=user, action=AuditAction.MEMBER_RECOVERY_CODES_RENEWED)
    return codes


@transaction.atomic
def turn_off_two_factor(*, user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _record_everywhere(user=user, actor=user, action=AuditAction.MEMBER_TWO_FACTOR_DISABLED)


@transaction.atomic
def enroll_authenticator(*, user) -> tuple[TOTPDevice, list[str]]:
    """For ops (manage.py enroll_totp): a confirmed authenticator at once, replacing any
    other, and new recovery codes. Whoever runs it hands the provisioning URI to the user."""
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=True)
    codes = _new_recovery_codes(user)
    _record_everywhere(
        user=user,
        actor=None,
        action=AuditAction.MEMBER_TWO_FACTOR_ENABLED,
        note="manage.py enroll_totp",
    )
    return device, codes


def storefronts_requiring_two_factor(*, user) -> list[Storefront]:
    return [sf for sf in _member_of(user) if sf.require_two_factor]


def members_with_two_factor(*, storefront: Storefront) -> set[int]:
    """The user ids of the storefront's members who have an authenticator."""
    users = Membership.objects.for_storefront(storefront).values("user")
    return set(
        TOTPDevice.objects.filter(user__in=users, confirmed=True).values_list("user", flat=True)
    )
