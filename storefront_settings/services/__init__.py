# Transitional: the module is split by use case in the next commit.
from storefront_settings.services.members import *  # noqa: F403
