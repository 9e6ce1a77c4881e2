"""Ops' changes in Django admin reach the audit log of the storefront whose rows they touch.

Django's own admin log (LogEntry) is for ops; the merchant's audit page reads AuditLog. So every
admin of a tenant-owned model (and the storefronts' own) records what it adds, changes and
deletes there, with the staff user as actor and each changed field old → new, as the dashboard's
settings pages do. Secret values are never recorded: a provider secret appears as its hint."""

from collections import defaultdict

from django.db import models, transaction

from storefront_settings.fields import EncryptedTextField
from storefront_settings.models import AuditAction, Storefront
from storefront_settings.services.audit import audit_value, record

# Field names whose values never reach the log (the audit page hides them too).
SECRET_WORDS = ("secret", "password", "token", "hash", "raw")
# At most this many items are named in one row for a bulk deletion (the count is exact).
MAX_NAMED = 20
ANOTHER_STOREFRONT = "(another storefront)"


def storefront_id_of(obj) -> int | None:
    if isinstance(obj, Storefront):
        return obj.pk
    return getattr(obj, "storefront_id", None)


def _is_secret(field: models.Field) -> bool:
    return isinstance(field, EncryptedTextField) or any(
        word in field.name.lower() for word in SECRET_WORDS
    )


def _audited_fields(model) -> list[models.Field]:
    """The concrete fields a change is judged on (not those Django stamps on every save)."""
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and not getattr(field, "auto_now", False)
    ]


def _hint(value) -> str:
    # As storefront_settings.services.credentials.add_provider_secret makes it: the last four
    # characters.
    return f"…{value[-4:]}" if value else ""


def _value(obj, field: models.Field, storefront_id: int):
    """A field's value as the log of `storefront_id` keeps it: a related row as its name, and
    another storefront never by name (its existence is not this storefront's business)."""
    if field.is_relation:
        related_id = getattr(obj, field.attname)
        if related_id is None:
            return None
        if field.related_model is Storefront and related_id != storefront_id:
            return ANOTHER_STOREFRONT
        return audit_value(getattr(obj, field.name))
    return audit_value(getattr(obj, field.attname))


def changed_fields(before, after, storefront_id: int, names) -> dict:
    """{field: {"from": old, "to": new}} between two states of one row, for the fields named
    (those the form says were changed: a datetime the admin's widget drew without its
    microseconds is saved without them, and that is not a change anyone made), secrets as
    hints."""
    changed = {}
    for field in _audited_fields(type(after)):
        if field.name not in names:
            continue
        old, new = getattr(before, field.attname), getattr(after, field.attname)
        if old == new:
            continue
        if _is_secret(field):
            # Never the value: the hint, where the model keeps one (ProviderSecret); else nothing.
            if hasattr(after, "hint"):
                changed["hint"] = {"from": _hint(old), "to": _hint(new)}
            continue
        changed[field.name] = {
            "from": _value(before, field, storefront_id),
            "to": _value(after, field, storefront_id),
        }
    return changed


def _kind(model) -> str:
    # app_label.model_name: the audit page shows the model's name in the reader's language.
    return model._meta.label_lower


def _label(obj) -> str:
    return audit_value(str(obj))


def _fresh_copy(obj):
    """The row as the database has it, before the admin's save."""
    if obj.pk is None:
        return None
    return type(obj)._base_manager.filter(pk=obj.pk).first()


def _storefronts(ids) -> dict[int, Storefront]:
    """Those of these storefronts that still exist (a deleted one took its log with it)."""
    return Storefront.objects.in_bulk([i for i in ids if i])


def record_added(*, actor, obj) -> None:
    for storefront in _storefronts([storefront_id_of(obj)]).values():
        record(
            storefront=storefront,
            actor=actor,
            action=AuditAction.ADMIN_ADDED,
            model=_kind(type(obj)),
            object=_label(obj),
        )


def record_changed(*, actor, before, obj, names) -> None:
    """One row per storefront concerned: a row moved to another storefront is in both logs."""
    storefronts = _storefronts({storefront_id_of(before), storefront_id_of(obj)})
    for storefront_id, storefront in sorted(storefronts.items()):
        changed = changed_fields(before, obj, storefront_id, names)
        if changed:
            record(
                storefront=storefront,
                actor=actor,
                action=AuditAction.ADMIN_CHANGED,
                model=_kind(type(obj)),
                object=_label(obj),
                changed=changed,
            )


def record_deleted(*, actor, objects, model) -> None:
    """One row per storefront, naming what was deleted (the first MAX_NAMED) and how many."""
    by_storefront = defaultdict(list)
    for obj in objects:
        by_storefront[storefront_id_of(obj)].append(_label(obj))
    for storefront_id, storefront in sorted(_storefronts(by_storefront).items()):
        labels = by_storefront[storefront_id]
        record(
            storefront=storefront,
            actor=actor,
            action=AuditAction.ADMIN_DELETED,
            model=_kind(model),
            objects=labels[:MAX_NAMED],
            count=len(labels),
        )


class AuditedAdminMixin:
    """For a ModelAdmin: additions, changes (its inlines' too) and deletions, single or bulk,
    each leave a row in the storefront's audit log. Admin actions record through the services
    they call (revoke, mark lost, resend, cancel, replay)."""

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        before = _fresh_copy(obj) if change else None
        super().save_model(request, obj, form, change)
        if before is None:
            record_added(actor=request.user, obj=obj)
        else:
            record_changed(actor=request.user, before=before, obj=obj, names=form.changed_data)

    @transaction.atomic
    def delete_model(self, request, obj):
        model = type(obj)
        super().delete_model(request, obj)
        record_deleted(actor=request.user, objects=[obj], model=model)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        objects = list(queryset)
        super().delete_queryset(request, queryset)
        record_deleted(actor=request.user, objects=objects, model=queryset.model)

    @transaction.atomic
    def save_formset(self, request, form, formset, change):
        # Only the rows being changed are read again (an inline may show hundreds of rows).
        before = {
            inline.instance.pk: _fresh_copy(inline.instance)
            for inline in formset.initial_forms
            if inline.instance.pk is not None and inline.has_changed()
        }
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            record_added(actor=request.user, obj=obj)
        for obj, names in formset.changed_objects:
            if before.get(obj.pk) is not None:
                record_changed(actor=request.user, before=before[obj.pk], obj=obj, names=names)
        if formset.deleted_objects:
            record_deleted(actor=request.user, objects=formset.deleted_objects, model=formset.model)
