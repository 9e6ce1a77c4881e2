from django.urls import include, path

from dashboard.views import (
    home,
    lost_sales,
    outbox,
    overview,
    settings,
    shipments,
    suppressions,
    team,
    two_factor,
)

app_name = "dashboard"

# Every page below <slug>/ goes through dashboard.access.member_view.
storefront_pages = [
    *overview.urlpatterns,
    *lost_sales.urlpatterns,
    *shipments.urlpatterns,
    *outbox.urlpatterns,
    *suppressions.urlpatterns,
    *settings.urlpatterns,
    *team.urlpatterns,
    *two_factor.urlpatterns,
]

urlpatterns = [
    *home.urlpatterns,
    path("<slug:slug>/", include(storefront_pages)),
]
