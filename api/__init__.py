"""The REST API under /api/v1/: API-key auth, every query scoped to the key's storefront.

One module per resource (its serializers, filter, viewset, and the examples /api/docs/ shows);
base.py owns the scoping, docs.py what the resources' documentation shares."""
