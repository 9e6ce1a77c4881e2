import pytest

from notifications.models import Message
from payments import services
from payments.models import LostSale
from storefront_settings.models import Membership
from tests.payments_helpers import signal


@pytest.fixture
def sales(two_storefronts):
    alpha, bravo = two_storefronts
    services.apply_signal(storefront=alpha.storefront, signal=signal())
    services.apply_signal(storefront=bravo.storefront, signal=signal(order_reference="B-1"))
    return alpha, bravo


@pytest.mark.django_db
def test_the_list_shows_the_storefronts_sales_only(client, sales):
    alpha, bravo = sales
    client.force_login(alpha.owner)
    response = client.get("/app/alpha/lost-sales/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "ML-1" in body and "B-1" not in body
    assert "89,00" in body
    assert client.get("/app/bravo/lost-sales/").status_code == 404
    assert client.get("/app/alpha/lost-sales/", {"reason": "nope"}).status_code == 400


@pytest.mark.django_db
def test_the_detail_is_404_for_another_storefronts_sale(client, sales):
    alpha, bravo = sales
    theirs = LostSale.objects.for_storefront(bravo.storefront).get()
    mine = LostSale.objects.for_storefront(alpha.storefront).get()
    client.force_login(alpha.owner)
    assert client.get(f"/app/alpha/lost-sales/{theirs.pk}/").status_code == 404
    assert client.get(f"/app/bravo/lost-sales/{theirs.pk}/").status_code == 404
    page = client.get(f"/app/alpha/lost-sales/{mine.pk}/")
    assert page.status_code == 200
    assert "decline_code=insufficient_funds" in page.content.decode()
    assert "payment_recovery_insufficient_funds" in page.content.decode()


@pytest.mark.django_db
def test_staff_stop_the_sequence_and_viewers_cannot(client, sales):
    alpha, _ = sales
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    url = f"/app/alpha/lost-sales/{sale.pk}/stop/"
    alpha.membership.role = Membership.Role.VIEWER
    alpha.membership.save()
    client.force_login(alpha.owner)
    assert "Stop" not in client.get(f"/app/alpha/lost-sales/{sale.pk}/").content.decode()
    assert client.post(url).status_code == 403
    scheduled = Message.objects.for_storefront(alpha.storefront).filter(status="scheduled")
    assert scheduled.count() == 4  # three recovery emails and the alert
    alpha.membership.role = Membership.Role.STAFF
    alpha.membership.save()
    assert client.post(url).status_code == 302
    assert scheduled.count() == 0
    assert client.get(url).status_code == 405
