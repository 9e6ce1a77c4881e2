import pytest
from django.urls import reverse

from storefront_settings.models import ApiKey, ProviderSecret


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "admin:storefront_settings_storefront_changelist",
        "admin:storefront_settings_membership_changelist",
        "admin:storefront_settings_apikey_changelist",
        "admin:storefront_settings_providersecret_changelist",
        "admin:storefront_settings_auditlog_changelist",
    ],
)
def test_ops_see_every_tenant_in_admin_lists(ops, two_storefronts, name):
    response = ops.get(reverse(name))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 2


@pytest.mark.django_db
def test_admin_never_shows_a_key_or_a_secret(ops, two_storefronts):
    alpha, _ = two_storefronts
    pages = [
        reverse("admin:storefront_settings_apikey_changelist"),
        reverse("admin:storefront_settings_apikey_change", args=[alpha.api_key.pk]),
        reverse("admin:storefront_settings_providersecret_changelist"),
        reverse("admin:storefront_settings_providersecret_change", args=[alpha.stripe_secret.pk]),
        reverse("admin:storefront_settings_storefront_change", args=[alpha.storefront.pk]),
    ]
    for page in pages:
        response = ops.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        assert alpha.raw_api_key not in body
        assert alpha.api_key.key_hash not in body
        assert alpha.stripe_secret.secret not in body
    # The stored ciphertext is not shown either.
    assert ProviderSecret.unscoped.count() == 2


@pytest.mark.django_db
def test_ops_can_revoke_a_key(ops, two_storefronts):
    alpha, bravo = two_storefronts
    response = ops.post(
        reverse("admin:storefront_settings_apikey_changelist"),
        {"action": "revoke", "_selected_action": [alpha.api_key.pk]},
    )
    assert response.status_code == 302
    assert ApiKey.unscoped.get(pk=alpha.api_key.pk).revoked_at is not None
    assert ApiKey.unscoped.get(pk=bravo.api_key.pk).revoked_at is None
