"""The storefront_settings app's models, one module per concern: tenant (the storefront, its
members, their invitations), credentials (API keys, providers' signing secrets, connected
accounts), policies (recovery and shipment emails) and audit (the audit log).

Django imports an app's models from `<app>.models`, so this package gathers the model classes
and the choices their fields share with the other apps (Language, PaymentMethod, Milestone,
AuditAction), the way Django's documentation organises models in several modules. It is the
one place names are re-exported: callers write `from storefront_settings.models import
Storefront`, and import a model module's helpers (`hash_api_key`, `default_milestones`) from
that module.
https://docs.djangoproject.com/en/5.2/topics/db/models/#organizing-models-in-a-package"""

from storefront_settings.models.audit import AuditAction, AuditLog
from storefront_settings.models.credentials import ApiKey, ConnectedAccount, ProviderSecret
from storefront_settings.models.policies import (
    Milestone,
    PaymentMethod,
    RecoveryPolicy,
    ShipmentPolicy,
)
from storefront_settings.models.tenant import Invitation, Language, Membership, Storefront

__all__ = [
    "ApiKey",
    "AuditAction",
    "AuditLog",
    "ConnectedAccount",
    "Invitation",
    "Language",
    "Membership",
    "Milestone",
    "PaymentMethod",
    "ProviderSecret",
    "RecoveryPolicy",
    "ShipmentPolicy",
    "Storefront",
]
