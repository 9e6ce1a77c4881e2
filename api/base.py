"""What every API viewset shares: the queryset belongs to the API key's storefront."""

from rest_framework import viewsets


class StorefrontScopedViewSet(viewsets.GenericViewSet):
    """Owns the queryset: only the requesting key's storefront, so another tenant's id is 404.

    `get_queryset` is final. A subclass names its `model` and, to narrow or order its rows,
    overrides `scoped_queryset(storefront)` starting from super()'s. A subclass that defines
    or inherits another get_queryset is refused when its class is created, so the storefront's
    scoping cannot be replaced by accident (as PostHog's TeamAndOrgViewSetMixin does)."""

    model = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.get_queryset is not StorefrontScopedViewSet.get_queryset:
            raise TypeError(
                f"{cls.__qualname__} replaces get_queryset, which scopes every query to the API "
                "key's storefront: override scoped_queryset(storefront) instead."
            )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no key
            return self.model.objects.none()
        return self.scoped_queryset(self.request.user.storefront)

    def scoped_queryset(self, storefront):
        """This viewset's rows of `storefront`; a subclass refines super()'s."""
        return self.model.objects.for_storefront(storefront)
