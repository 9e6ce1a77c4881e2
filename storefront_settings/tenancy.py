"""Tenant scoping: a tenant-owned model's default manager fails closed.

`Model.objects.for_storefront(sf)` (or any filter on `storefront`) may be evaluated; a query
that names no storefront raises UnscopedQueryError instead of reading every tenant's rows. The
escape hatch has a loud name, `Model.unscoped`, for admin, beat jobs and authentication, where
crossing tenants is the point. Django's own machinery (saving, deleting, related-object access)
goes through the plain base manager and is unaffected.
"""

from django.db import connection, models

# Filters that pin a query to one storefront.
SCOPING_LOOKUPS = frozenset({"storefront", "storefront_id", "storefront__exact", "storefront__pk"})


class UnscopedQueryError(Exception):
    pass


class TenantQuerySet(models.QuerySet):
    _scoped = False

    def for_storefront(self, storefront) -> "TenantQuerySet":
        return self.filter(storefront=storefront)

    def _filter_or_exclude(self, negate, args, kwargs):
        clone = super()._filter_or_exclude(negate, args, kwargs)
        if not negate and SCOPING_LOOKUPS.intersection(kwargs):
            clone._scoped = True
        return clone

    def none(self):
        # An empty result reveals nothing, whoever asks.
        clone = super().none()
        clone._scoped = True
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._scoped = self._scoped
        return clone

    def _require_scope(self):
        if not self._scoped:
            name = self.model.__name__
            raise UnscopedQueryError(
                f"{name} queried without a storefront: use {name}.objects.for_storefront(sf), "
                f"or {name}.unscoped where crossing tenants is intended"
            )

    def _fetch_all(self):
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def iterator(self, *args, **kwargs):
        self._require_scope()
        return super().iterator(*args, **kwargs)

    def count(self):
        self._require_scope()
        return super().count()

    def exists(self):
        self._require_scope()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._require_scope()
        return super().update(**kwargs)

    def delete(self):
        self._require_scope()
        return super().delete()


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    def get_queryset(self):
        queryset = super().get_queryset()
        # A related manager (storefront.memberships, lost_sale.attempts…) is already scoped by
        # the tenant-owned instance it hangs from.
        if getattr(self, "instance", None) is not None:
            queryset._scoped = True
        return queryset


class TenantModel(models.Model):
    """Base of every tenant-owned model. Subclasses declare their own `storefront` foreign key
    (non-null) and include it in every unique constraint; tests/test_tenancy.py checks both."""

    objects = TenantManager()
    # Declared second so that `objects` stays the default manager.
    unscoped = models.Manager()  # noqa: DJ012

    class Meta:
        abstract = True


def lock_keys(keys) -> None:
    """Take a transaction-scoped advisory lock per key (keys name their storefront), in sorted
    order so that two transactions locking overlapping keys never deadlock."""
    names = sorted(set(keys))
    if not names:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(name)) FROM unnest(%s::text[]) AS name "
            "ORDER BY name",
            [names],
        )
