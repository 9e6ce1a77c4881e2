"""Admin for what the dashboard owns the making of: member invitations, whose link only the
invitation email carries (dashboard.invitations), so here ops read and revoke."""

from django.contrib import admin

from dashboard import invitations
from storefront_settings.admin import NoAddAdmin, revoke
from storefront_settings.models import Invitation


@admin.register(Invitation)
class InvitationAdmin(NoAddAdmin):
    list_display = ["email", "storefront", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email", "storefront__slug"]
    fields = [
        "storefront",
        "email",
        "role",
        "invited_by",
        "created_at",
        "sent_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = [revoke]

    @staticmethod
    def revoke_one(*, storefront, item, actor) -> bool:
        # As the members page does: the audit row, and the email not sent yet cancelled.
        return invitations.revoke(storefront=storefront, invitation=item, actor=actor)
