from django.contrib.admin.apps import AdminConfig


class OpsAdminConfig(AdminConfig):
    """django.contrib.admin, on the site that asks ops for a second factor. Apart from the
    site's module, which needs the models, so is imported once the apps are loaded."""

    default_site = "config.admin_site.OpsAdminSite"
