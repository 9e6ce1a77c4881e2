"""Helpers the settings verbs share (storefronts, members, preferences)."""

from storefront_settings.models import AuditAction, Membership
from storefront_settings.services.audit import changes, record


def member_label(membership: Membership) -> str:
    return membership.user.email or membership.user.get_username()


def save_changes(
    *, storefront, actor, row, values: dict, fields: tuple, action: AuditAction, **detail
):
    """Set `values` on the locked `row`, validate and save the fields that changed, and record
    them; returns {field: {"from": old, "to": new}} for the changed fields."""
    unknown = set(values) - set(fields)
    if unknown:
        raise TypeError(f"not settable here: {', '.join(sorted(unknown))}")
    changed = changes(row, values)
    for field in changed:
        setattr(row, field, values[field])
    if not changed:
        return changed
    # The model's own validators have the last word, whatever the caller checked; fields not
    # changed here are left out, so an old value set elsewhere does not block this change.
    row.full_clean(
        exclude=[f.name for f in row._meta.concrete_fields if f.name not in changed],
        validate_unique=False,
        validate_constraints=False,
    )
    row.save(update_fields=list(changed))
    record(storefront=storefront, actor=actor, action=action, changed=changed, **detail)
    return changed
