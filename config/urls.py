from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz
from config.login import LoginView, login_code
from dashboard.views.join import join

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:home", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("login/", LoginView.as_view(), name="login"),
    path("login/code/", login_code, name="login-code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("app/", include("dashboard.urls")),
    # The link of an invitation's email, where the invited address's reader joins: outside
    # /app/<slug>/, where every page needs a member's session.
    path("join/<str:token>/", join, name="join"),
    path("api/v1/", include("api.urls")),
    # Every connection's webhooks, /webhooks/<source>/<public id>/ (settings.CONNECTIONS).
    path("", include("inbound.urls")),
    path("", include("notifications.urls")),
    path("", include("payments.urls")),
    path("", include("tracking.urls")),
    # The ESPs' tracking webhooks, /webhooks/email/<esp>/tracking/: 404 without a webhook secret.
    path("webhooks/email/", include("notifications.esp_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI; the split view serves its start-up script from ?script rather than inline,
    # so the CSP needs no exception.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/docs.html"),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]
