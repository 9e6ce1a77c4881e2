"""Settings pages: brand and trust, recovery and shipment emails, quiet hours and cap, the
member's own alerts, and the audit log. Connections, API keys and members are in team.py.

Every edit page works the same way: GET shows the form (disabled for a viewer, whose POST
member_view answers with 403); an invalid POST shows it again with each error next to its field,
with a 400, and changes nothing; a valid one saves through a storefront_settings service, which
leaves one audit row naming the changed fields, then redirects back with a flash message."""

from django.apps import apps
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from dashboard.access import member_view
from dashboard.forms.brand import BrandForm
from dashboard.forms.recovery_policy import RecoveryPolicyForm, delays_display
from dashboard.forms.settings import AlertsForm, AuditFilterForm, SendingForm
from dashboard.forms.shipment_policy import MILESTONE_LABELS, ShipmentPolicyForm
from dashboard.views.lists import page_of
from payments.reasons import FailureReason
from payments.services.display import amount_display
from storefront_settings import connections
from storefront_settings.models import (
    AuditAction,
    AuditLog,
    Membership,
    PaymentMethod,
    RecoveryPolicy,
    ShipmentPolicy,
    Storefront,
)
from storefront_settings.services import preferences, storefronts
from tracking.carriers import Carrier

AUDIT_PAGE_SIZE = 50

edit_methods = require_http_methods(["GET", "HEAD", "POST"])

# The brand page's fields, in the groups a merchant thinks in.
BRAND_GROUPS = [
    (gettext_lazy("Brand"), ["name", "shop_url", "logo_url", "brand_colour", "accent_colour"]),
    (
        gettext_lazy("Legal identity"),
        [
            "legal_name",
            "company_number",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "country",
        ],
    ),
    (gettext_lazy("Customer service"), ["support_email", "support_phone", "support_hours"]),
    (gettext_lazy("Policies"), ["terms_url", "returns_url", "withdrawal_url", "privacy_url"]),
]

# Plain words for each field a settings change may name (flash messages and the audit log).
FIELD_LABELS = {
    **BrandForm.Meta.labels,
    **SendingForm.Meta.labels,
    **ShipmentPolicyForm.Meta.labels,
    **AlertsForm.Meta.labels,
    "milestones": gettext_lazy("Shipment emails"),
    "disabled_reasons": gettext_lazy("Reasons not emailed to the buyer"),
    "minimum_amount": gettext_lazy("Minimum order amount"),
    "email_delay_minutes": gettext_lazy("Email delays"),
    # Rows written before the delays were in minutes name the field they had then (in hours).
    "email_delays": gettext_lazy("Email delays"),
    "recovery_window_days": gettext_lazy("Give up after (days)"),
    "discount_code": gettext_lazy("Discount code"),
    "discount_wording": gettext_lazy("Words before the code"),
    "checkout_url_template": gettext_lazy("Where to pay again (URL template)"),
    "other_payment_methods": gettext_lazy("Other ways to pay"),
    # Facts other actions record.
    "slug": gettext_lazy("Address (slug)"),
    "prefix": gettext_lazy("Key starts with"),
    "hint": gettext_lazy("Secret ends with"),
    "provider": gettext_lazy("Provider"),
    "member": gettext_lazy("Member"),
    "role": gettext_lazy("Role"),
    "new_user": gettext_lazy("New account"),
    "lost_sale": gettext_lazy("Lost sale"),
    "shipment": gettext_lazy("Shipment"),
    "tracking_number": gettext_lazy("Tracking number"),
    "order_reference": gettext_lazy("Order"),
    "template": gettext_lazy("Email"),
    "to": gettext_lazy("To"),
    "event_type": gettext_lazy("Event"),
    "event_id": gettext_lazy("Event id"),
    # Changes made by Aftersale's staff in its admin.
    "model": gettext_lazy("Kind"),
    "object": gettext_lazy("Item"),
    "objects": gettext_lazy("Items"),
    "count": gettext_lazy("How many"),
    "message": gettext_lazy("Message"),
    "step": gettext_lazy("Email number"),
    "cancelled": gettext_lazy("Emails stopped"),
    "filename": gettext_lazy("File"),
    "created": gettext_lazy("Added"),
    "existing": gettext_lazy("Already known"),
    "refused": gettext_lazy("Refused"),
    "email": gettext_lazy("Email address"),
    "note": gettext_lazy("Note"),
    "reason": gettext_lazy("Reason"),
    "confirmed": gettext_lazy("Confirmed"),
    "status": gettext_lazy("Answer status"),
    "accepted": gettext_lazy("Accepted"),
    "require_two_factor": gettext_lazy("Two-factor login required"),
}

# What each audit action means, in plain words: storefront_settings.models.AuditAction's labels.
# An action not listed (a row older than its label) is shown from its code ("member.invited" →
# "Member invited"), so the page never breaks on one.
ACTION_LABELS = dict(AuditAction.choices)

# Actions that record one change as top-level "from" and "to": the field they change.
TOP_LEVEL_CHANGE = {"member.role_changed": "role"}

# Detail keys never shown, whatever a service wrote: secrets have no place in the audit log,
# and this keeps a slip elsewhere from reaching a page.
SECRET_WORDS = ("secret", "password", "token", "hash", "raw")


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    return action.replace(".", " ").replace("_", " ").capitalize()


def field_label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field.replace("_", " ").capitalize()))


def _is_secret(key: str) -> bool:
    return any(word in key.lower() for word in SECRET_WORDS)


def _choice_labels(values, choices) -> str:
    labels = dict(choices)
    return ", ".join(str(labels.get(value, value)) for value in values)


def display_value(field: str, value, storefront: Storefront) -> str:
    """An audit value as a merchant reads it."""
    if value in (None, "", []):
        return _("(empty)")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field == "minimum_amount":
        return amount_display(value, storefront.currency, storefront.language)
    if field == "email_delay_minutes":
        return delays_display(value)
    if field == "email_delays":  # hours, in audit rows older than the minutes
        return ", ".join(f"{hours} h" for hours in value)
    if field == "disabled_reasons":
        return _choice_labels(value, FailureReason.choices)
    if field == "other_payment_methods":
        return _choice_labels(value, PaymentMethod.choices)
    if field == "milestones":
        return _choice_labels(value, MILESTONE_LABELS.items())
    if field == "alert_frequency":
        return _choice_labels([value], Membership.AlertFrequency.choices)
    if field == "role":
        return _choice_labels([value], Membership.Role.choices)
    if field == "provider":
        return _choice_labels([value], connections.choices())
    if field == "carrier":
        return _choice_labels([value], Carrier.choices)
    if field == "model":
        return _model_name(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _model_name(label) -> str:
    """ "tracking.shipment" → "Shipment", in the reader's language where the model says it."""
    try:
        return str(apps.get_model(label)._meta.verbose_name).capitalize()
    except (LookupError, ValueError, TypeError):
        return str(label)


def who(entry: AuditLog, detail: dict) -> str:
    """The actor as a merchant reads it: a member, an API key (by name and prefix: the key
    itself is never stored), Aftersale's staff, or Aftersale itself."""
    key = detail.get("api_key")
    if isinstance(key, dict):
        return _("API key %(name)s (%(prefix)s…)") % {
            "name": key.get("name", ""),
            "prefix": key.get("prefix", ""),
        }
    actor = entry.actor
    if actor is None:
        return _("Aftersale (automatic)")
    name = actor.email or actor.get_username()
    if actor.is_staff:
        return _("%(name)s (Aftersale's staff)") % {"name": name}
    return name


def audit_entry(entry: AuditLog, storefront: Storefront) -> dict:
    """One audit row for the page: the action in words, the changes (old → new) and the other
    facts it records, secrets left out."""
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    changes = []
    changed = detail.get("changed")
    if entry.action in TOP_LEVEL_CHANGE and "from" in detail and "to" in detail:
        changed = {TOP_LEVEL_CHANGE[entry.action]: {"from": detail["from"], "to": detail["to"]}}
        detail = {k: v for k, v in detail.items() if k not in ("from", "to")}
    if isinstance(changed, dict):
        for field, values in changed.items():
            if _is_secret(field) or not isinstance(values, dict):
                continue
            changes.append(
                {
                    "field": field_label(field),
                    "old": display_value(field, values.get("from"), storefront),
                    "new": display_value(field, values.get("to"), storefront),
                }
            )
    facts = [
        (field_label(key), display_value(key, value, storefront))
        for key, value in detail.items()
        if key not in ("changed", "api_key") and not _is_secret(key)
    ]
    return {
        "entry": entry,
        "label": action_label(entry.action),
        "who": who(entry, detail),
        "changes": changes,
        "facts": facts,
    }


def _edit_page(request, *, form, save, template: str, url_name: str, editable=None, **context):
    """GET shows the form; POST validates it, saves through `save(values)` and redirects, or
    answers 400 with the errors next to their fields and nothing saved. The form is read only
    unless `editable` (by default: unless the member is a viewer)."""
    editable = request.can_change if editable is None else editable
    if not editable:
        form.make_read_only()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changed = save(form.values())
            if changed:
                fields = ", ".join(field_label(field) for field in changed)
                messages.success(request, _("Saved. Changed: %(fields)s.") % {"fields": fields})
            else:
                messages.info(request, _("Nothing to save: these are the settings in place."))
            return redirect(f"dashboard:{url_name}", slug=request.storefront.slug)
        status = 400
    return render(
        request,
        template,
        {"storefront": request.storefront, "form": form, "editable": editable, **context},
        status=status,
    )


def _storefront_page(request, page: str, form, update, **context):
    """An edit page of the storefront's own settings, saved by `update`, a storefront_settings
    service taking (storefront, actor, values). Its template is settings/<page>.html and its
    URL name settings-<page>."""

    def save(values):
        return update(storefront=request.storefront, actor=request.user, values=values)

    return _edit_page(
        request,
        form=form,
        save=save,
        template=f"dashboard/settings/{page}.html",
        url_name=f"settings-{page}",
        **context,
    )


def _posted(request):
    # Bound on every POST, even one with no field ticked, so it is validated, not shown afresh.
    return request.POST if request.method == "POST" else None


def _fresh_storefront(storefront: Storefront) -> Storefront:
    # A form validates into its instance: a copy keeps an invalid value off request.storefront,
    # which the page's header and navigation still show.
    return Storefront.objects.get(pk=storefront.pk)


@member_view
def index(request):
    return redirect("dashboard:settings-brand", slug=request.storefront.slug)


@edit_methods
@member_view
def brand(request):
    current = request.storefront
    form = BrandForm(_posted(request), instance=_fresh_storefront(current))
    return _storefront_page(
        request,
        "brand",
        form,
        storefronts.update_brand_and_trust,
        groups=[(title, [form[name] for name in names]) for title, names in BRAND_GROUPS],
    )


@edit_methods
@member_view
def recovery(request):
    current = request.storefront
    policy = RecoveryPolicy.for_storefront(current)
    form = RecoveryPolicyForm(_posted(request), policy=policy, storefront=current)
    return _storefront_page(request, "recovery", form, storefronts.update_recovery_policy)


@edit_methods
@member_view
def shipments(request):
    current = request.storefront
    form = ShipmentPolicyForm(_posted(request), instance=ShipmentPolicy.for_storefront(current))
    return _storefront_page(request, "shipments", form, storefronts.update_shipment_policy)


@edit_methods
@member_view
def sending(request):
    current = request.storefront
    form = SendingForm(_posted(request), instance=_fresh_storefront(current))
    return _storefront_page(request, "sending", form, storefronts.update_sending_guards)


@edit_methods
@member_view(viewers_may_post=True)
def alerts(request):
    # The member's own preferences, not the storefront's: a viewer changes theirs too, as the
    # link at the bottom of each alert email already lets them. The service touches only
    # request.membership, so no one reaches another member's row from here.
    current = request.storefront
    mine = Membership.objects.for_storefront(current).get(pk=request.membership.pk)
    form = AlertsForm(_posted(request), instance=mine)
    return _edit_page(
        request,
        form=form,
        save=lambda values: preferences.update_alert_preferences(
            membership=request.membership, actor=request.user, values=values
        ),
        template="dashboard/settings/alerts.html",
        url_name="settings-alerts",
        editable=True,
    )


@member_view
@require_safe
def audit(request):
    current = request.storefront
    entries = AuditLog.objects.for_storefront(current)
    present = entries.order_by().values_list("action", flat=True).distinct()
    actions = sorted(((action, action_label(action)) for action in present), key=lambda a: a[1])
    form = AuditFilterForm(request.GET, actions=actions)
    valid = form.is_valid()
    if valid and form.cleaned_data["action"]:
        entries = entries.filter(action=form.cleaned_data["action"])
    if not valid:
        entries = entries.none()
    entries = entries.select_related("actor").order_by("-created_at", "-pk")
    page = page_of(request, entries, AUDIT_PAGE_SIZE)
    return render(
        request,
        "dashboard/settings/audit.html",
        {
            "storefront": current,
            "form": form,
            "page": page,
            "rows": [audit_entry(entry, current) for entry in page.object_list],
        },
        status=200 if valid else 400,
    )


urlpatterns = [
    path("settings/", index, name="settings"),
    path("settings/brand/", brand, name="settings-brand"),
    path("settings/recovery/", recovery, name="settings-recovery"),
    path("settings/shipments/", shipments, name="settings-shipments"),
    path("settings/sending/", sending, name="settings-sending"),
    path("settings/alerts/", alerts, name="settings-alerts"),
    path("settings/audit/", audit, name="settings-audit"),
]
