import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from storefront_settings.fields import DecryptionError
from storefront_settings.models import ProviderSecret
from storefront_settings.selectors import active_provider_secrets
from storefront_settings.services import credentials

SECRET = "whsec_plaintextplaintext1234"


def stored_value(provider_secret) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret FROM storefront_settings_providersecret WHERE id = %s",
            [provider_secret.pk],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_secret_is_not_readable_in_the_database(make_tenant):
    tenant = make_tenant("Alpha", SECRET)
    raw = stored_value(tenant.stripe_secret)
    assert SECRET not in raw
    assert "plaintext" not in raw
    # Authenticated encryption: the stored token is a Fernet token under our key.
    assert raw.startswith("gAAAAA")
    assert ProviderSecret.objects.for_storefront(tenant.storefront).get().secret == SECRET


@pytest.mark.django_db
def test_the_same_secret_encrypts_differently_each_time(make_tenant):
    tenant = make_tenant("Alpha", SECRET)
    again = credentials.add_provider_secret(
        storefront=tenant.storefront, provider="stripe", secret=SECRET
    )
    assert stored_value(again) != stored_value(tenant.stripe_secret)


@pytest.mark.django_db
def test_a_tampered_or_foreign_value_does_not_decrypt(make_tenant):
    tenant = make_tenant("Alpha", SECRET)
    other_key = Fernet.generate_key().decode()
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[other_key]),
        pytest.raises(DecryptionError) as raised,
    ):
        ProviderSecret.objects.for_storefront(tenant.storefront).get()
    assert SECRET not in str(raised.value)


@pytest.mark.django_db
def test_the_encryption_key_can_be_rotated(make_tenant, settings):
    tenant = make_tenant("Alpha", SECRET)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    provider_secret = ProviderSecret.objects.for_storefront(tenant.storefront).get()
    assert provider_secret.secret == SECRET
    provider_secret.save()
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert ProviderSecret.objects.for_storefront(tenant.storefront).get().secret == SECRET


@pytest.mark.django_db
def test_several_secrets_are_active_until_revoked(make_tenant):
    tenant = make_tenant("Alpha", SECRET)
    newer = credentials.add_provider_secret(
        storefront=tenant.storefront, provider="stripe", secret="whsec_newernewernewer1234"
    )
    assert active_provider_secrets(storefront=tenant.storefront, provider="stripe") == [
        "whsec_newernewernewer1234",
        SECRET,
    ]
    credentials.revoke_provider_secret(
        storefront=tenant.storefront, provider_secret=tenant.stripe_secret
    )
    assert active_provider_secrets(storefront=tenant.storefront, provider="stripe") == [
        newer.secret
    ]


@pytest.mark.django_db
def test_revoking_another_storefronts_secret_does_nothing(two_storefronts):
    alpha, bravo = two_storefronts
    credentials.revoke_provider_secret(
        storefront=alpha.storefront, provider_secret=bravo.stripe_secret
    )
    assert active_provider_secrets(storefront=bravo.storefront, provider="stripe") == [
        "whsec_bravobravobravobravo"
    ]


@pytest.mark.django_db
def test_revoking_twice_leaves_one_audit_row(make_tenant):
    tenant = make_tenant("Alpha", SECRET)
    kwargs = {"storefront": tenant.storefront, "provider_secret": tenant.stripe_secret}
    assert credentials.revoke_provider_secret(**kwargs) is True
    assert credentials.revoke_provider_secret(**kwargs) is False
    assert tenant.storefront.audit_logs.filter(action="secret.revoked").count() == 1
