import pytest
from django.urls import reverse

from storefront_settings.models import ApiKey
from storefront_settings.services import credentials


def get_storefront(client, raw_key):
    return client.get(reverse("current-storefront"), HTTP_AUTHORIZATION=f"Bearer {raw_key}")


@pytest.mark.django_db
def test_a_key_acts_for_its_own_storefront_only(client, two_storefronts):
    alpha, bravo = two_storefronts
    for tenant in (alpha, bravo):
        response = get_storefront(client, tenant.raw_api_key)
        assert response.status_code == 200
        assert response.json()["id"] == tenant.storefront.public_id
        assert response.json()["slug"] == tenant.storefront.slug


@pytest.mark.django_db
def test_only_a_hash_and_a_prefix_are_stored(two_storefronts):
    alpha, _ = two_storefronts
    row = ApiKey.unscoped.values().get(pk=alpha.api_key.pk)
    assert alpha.raw_api_key not in str(row)
    assert alpha.raw_api_key.startswith(row["prefix"])
    assert len(row["prefix"]) == ApiKey.VISIBLE_LENGTH


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["", "Bearer", "Bearer as_nope", "Token whatever"])
def test_missing_or_unknown_keys_are_401(client, two_storefronts, header):
    response = client.get(reverse("current-storefront"), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
def test_a_revoked_key_is_401_and_the_other_keys_still_work(client, two_storefronts):
    alpha, _ = two_storefronts
    second, second_raw = credentials.create_api_key(storefront=alpha.storefront, name="second")
    credentials.revoke_api_key(storefront=alpha.storefront, api_key=alpha.api_key)
    assert get_storefront(client, alpha.raw_api_key).status_code == 401
    assert get_storefront(client, second_raw).status_code == 200


@pytest.mark.django_db
def test_a_storefront_cannot_revoke_another_storefronts_key(client, two_storefronts):
    alpha, bravo = two_storefronts
    credentials.revoke_api_key(storefront=alpha.storefront, api_key=bravo.api_key)
    assert get_storefront(client, bravo.raw_api_key).status_code == 200


@pytest.mark.django_db
def test_last_use_is_recorded(client, two_storefronts):
    alpha, _ = two_storefronts
    assert alpha.api_key.last_used_at is None
    get_storefront(client, alpha.raw_api_key)
    alpha.api_key.refresh_from_db()
    assert alpha.api_key.last_used_at is not None
