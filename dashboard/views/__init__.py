"""The merchant's pages, one module per area; each module carries its own urlpatterns."""
