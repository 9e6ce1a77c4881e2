"""Start-up checks of the payments settings."""

from django.conf import settings
from django.core import checks


@checks.register()
def check_other_order_share(app_configs=None, **kwargs):
    share = settings.RECOVERY_OTHER_ORDER_MIN_SHARE
    # Above 1 no other order could ever pay for a sale unless it cost more; 0 or less would let
    # any payment, however small, stop a buyer's recovery emails.
    if isinstance(share, int | float) and 0 < share <= 1:
        return []
    return [
        checks.Error(
            "RECOVERY_OTHER_ORDER_MIN_SHARE must be a number above 0 and at most 1, "
            f"not {share!r}.",
            hint="0.8: another order paying at least 80 % of a lost sale's amount recovers it.",
            id="payments.E001",
        )
    ]
