"""The API's base viewset owns the storefront's scoping, and no viewset can replace it: one that
defines (or inherits) its own get_queryset is refused when its class is created."""

from types import SimpleNamespace

import pytest

from api.base import StorefrontScopedViewSet
from api.urls import router
from notifications.models import Message


def test_a_viewset_that_defines_get_queryset_is_refused_at_class_creation():
    with pytest.raises(TypeError, match=r"EveryMessage replaces get_queryset.*scoped_queryset"):

        class EveryMessage(StorefrontScopedViewSet):
            model = Message

            def get_queryset(self):
                return Message.unscoped.all()


def test_a_get_queryset_inherited_from_a_mixin_is_refused_too():
    class EveryRow:
        def get_queryset(self):
            return Message.unscoped.all()

    with pytest.raises(TypeError, match="scoped_queryset"):

        class EveryMessage(EveryRow, StorefrontScopedViewSet):
            model = Message


def test_every_api_viewset_is_scoped_by_the_base():
    assert router.registry
    for prefix, viewset, _ in router.registry:
        assert issubclass(viewset, StorefrontScopedViewSet), prefix
        assert viewset.get_queryset is StorefrontScopedViewSet.get_queryset, prefix


@pytest.mark.django_db
def test_scoped_queryset_refines_the_keys_storefronts_rows_only(two_storefronts, schedule_message):
    alpha, bravo = two_storefronts

    class TestMessages(StorefrontScopedViewSet):
        model = Message

        def scoped_queryset(self, storefront):
            return super().scoped_queryset(storefront).filter(kind="test")

    mine = schedule_message(alpha.storefront)
    schedule_message(bravo.storefront)
    view = TestMessages()
    view.request = SimpleNamespace(user=SimpleNamespace(storefront=alpha.storefront))
    assert list(view.get_queryset()) == [mine]
