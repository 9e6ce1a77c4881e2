"""The audit log: who changed what in a storefront, and when, with the actions it records and
their words for the audit page."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from storefront_settings.models.tenant import Storefront
from storefront_settings.tenancy import TenantModel


class AuditAction(models.TextChoices):
    """What an audit row records (AuditLog.action), written by services across the apps and
    labelled here once for the audit page. A new action gets its member and label here."""

    STOREFRONT_CREATED = "storefront.created", _("Storefront created")
    STOREFRONT_BRAND_CHANGED = "storefront.brand_changed", _("Brand and trust details changed")
    STOREFRONT_SENDING_CHANGED = "storefront.sending_changed", _("Quiet hours or daily cap changed")
    RECOVERY_POLICY_CHANGED = "recovery_policy.changed", _("Recovery emails policy changed")
    SHIPMENT_POLICY_CHANGED = "shipment_policy.changed", _("Shipment emails policy changed")
    MEMBER_ALERTS_CHANGED = "member.alerts_changed", _("Alert preferences changed")
    API_KEY_CREATED = "api_key.created", _("API key created")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    SECRET_ADDED = "secret.added", _("Provider secret added")
    SECRET_REVOKED = "secret.revoked", _("Provider secret revoked")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Member's role changed")
    MEMBER_INVITED = "member.invited", _("Member invited")
    INVITATION_RESENT = "invitation.resent", _("Invitation sent again")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
    MEMBER_JOINED = "member.joined", _("Invitation accepted: member joined")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    LOST_SALE_MARKED_LOST = "lost_sale.marked_lost", _("Lost sale marked lost")
    LOST_SALE_RECOVERY_EMAIL_SENT_NOW = (
        "lost_sale.recovery_email_sent_now",
        _("Recovery email sent now"),
    )
    LOST_SALE_SEQUENCE_STOPPED = "lost_sale.sequence_stopped", _("Recovery emails stopped")
    SHIPMENTS_IMPORTED = "shipments.imported", _("Shipments imported from a file")
    SHIPMENT_LINK_REVOKED = (
        "shipment.link_revoked",
        _("Buyer's tracking link revoked (a new one made)"),
    )
    SHIPMENT_CREATED = "shipment.created", _("Shipment recorded")
    SHIPMENT_CORRECTED = "shipment.corrected", _("Shipment corrected")
    MESSAGE_RESENT = "message.resent", _("Failed email queued again")
    MESSAGE_CANCELLED = "message.cancelled", _("Scheduled email cancelled")
    INBOUND_EVENT_REPLAYED = "inbound_event.replayed", _("Event processed again")
    ADMIN_ADDED = "admin.added", _("Added by Aftersale's staff")
    ADMIN_CHANGED = "admin.changed", _("Changed by Aftersale's staff")
    ADMIN_DELETED = "admin.deleted", _("Deleted by Aftersale's staff")
    SUPPRESSION_ADDED = "suppression.added", _("Address added to the suppression list")
    SUPPRESSION_LIFTED = "suppression.lifted", _("Suppression lifted")
    WEBHOOK_TEST_SENT = "webhook.test_sent", _("Test event sent")
    STOREFRONT_SECURITY_CHANGED = "storefront.security_changed", _("Two-factor requirement changed")
    MEMBER_TWO_FACTOR_ENABLED = "member.two_factor_enabled", _("Two-factor login turned on")
    MEMBER_TWO_FACTOR_DISABLED = "member.two_factor_disabled", _("Two-factor login turned off")
    MEMBER_RECOVERY_CODES_RENEWED = "member.recovery_codes_renewed", _("New recovery codes made")


class AuditLog(TenantModel):
    """Who changed what, and when: one row per significant change."""

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="audit_logs")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=60)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.action} by {self.actor or 'system'}"
