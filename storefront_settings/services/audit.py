"""The storefront's audit log: record() writes one row; audit_value() and changes() say how a
value, and a change of values, are kept in it."""

from datetime import date, time

from storefront_settings.models import ApiKey, AuditAction, AuditLog, Storefront


def record(*, storefront: Storefront, actor, action: AuditAction, **detail) -> AuditLog:
    """One audit row. The actor is a user, None (Aftersale itself), or an API key: a key is not
    a user, so the row names it in `detail["api_key"]` by its name and visible prefix (never the
    key), as the key was at that moment."""
    if isinstance(actor, ApiKey):
        detail = {**detail, "api_key": {"name": actor.name, "prefix": actor.prefix}}
        actor = None
    return AuditLog.objects.create(storefront=storefront, actor=actor, action=action, detail=detail)


AUDIT_TEXT_LIMIT = 500


def audit_value(value):
    """A value as the audit log keeps it (JSON): times as HH:MM, dates and moments in ISO 8601,
    long text cut short, anything else JSON cannot hold as its text."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [audit_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): audit_value(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text if len(text) <= AUDIT_TEXT_LIMIT else text[: AUDIT_TEXT_LIMIT - 1] + "…"


def changes(row, new_values: dict) -> dict:
    """{field: {"from": old, "to": new}} for the values that differ from the row's."""
    return {
        field: {"from": audit_value(getattr(row, field)), "to": audit_value(new)}
        for field, new in new_values.items()
        if getattr(row, field) != new
    }
