"""The names that cross apps are one vocabulary each: every audit action written anywhere is an
AuditAction with a label the audit page shows, and every message kind a MessageKind the emails
log can filter on."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils.html import escape

from dashboard.views.settings import action_label
from notifications.models import MessageKind
from notifications.rendering import available_templates
from storefront_settings.models import AuditAction, AuditLog, Milestone
from storefront_settings.models.policies import default_milestones

ROOT = Path(settings.BASE_DIR)
SKIPPED = {"tests", "migrations", "bench", ".venv", ".data", "node_modules"}


def project_sources():
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIPPED & set(path.relative_to(ROOT).parts):
            yield path, ast.parse(path.read_text(), filename=str(path))


def keyword_values(name: str):
    """(file, value node) of every `name=…` keyword argument in the project's code."""
    for path, tree in project_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == name:
                yield path.relative_to(ROOT), node.value


def enum_members_used(enum_name: str) -> set[str]:
    used = set()
    for _path, tree in project_sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == enum_name
                and node.attr.isupper()
            ):
                used.add(node.attr)
    return used


def test_no_audit_action_is_written_as_a_bare_string():
    literals = [
        (str(path), node.value)
        for path, node in keyword_values("action")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value
    ]
    assert literals == []


def test_every_audit_action_used_exists_and_has_its_own_label():
    used = enum_members_used("AuditAction")
    assert {"MEMBER_INVITED", "SHIPMENT_LINK_REVOKED", "STOREFRONT_BRAND_CHANGED"} <= used
    assert used <= set(AuditAction.names)
    for action in AuditAction:
        assert action_label(action.value) == str(action.label)
        assert action.label and action.label != action.value


def test_no_message_kind_is_written_as_a_bare_string():
    literals = [
        (str(path), node.value)
        for path, node in keyword_values("kind")
        if isinstance(node, ast.Constant) and node.value in MessageKind.values
    ]
    assert literals == []
    assert enum_members_used("MessageKind") <= set(MessageKind.names)


@pytest.mark.django_db
def test_the_audit_page_labels_every_action(two_storefronts):
    tenant = two_storefronts[0]
    AuditLog.objects.bulk_create(
        AuditLog(storefront=tenant.storefront, actor=None, action=action, detail={})
        for action in AuditAction
    )
    client = Client()
    client.force_login(tenant.owner)
    response = client.get(f"/app/{tenant.storefront.slug}/settings/audit/")
    assert response.status_code == 200
    body = response.content.decode()
    missing = [a.value for a in AuditAction if escape(str(a.label)) not in body]
    assert missing == []


def test_every_milestone_has_its_email_and_a_label():
    templates = available_templates()
    for milestone in Milestone:
        assert f"shipment_{milestone}" in templates
        assert milestone.label and milestone.label != milestone.value
    assert default_milestones() == Milestone.values
