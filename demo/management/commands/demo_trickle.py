import signal
import threading

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from demo import trickle
from storefront_settings.management.base import Command as BaseCommand


class Command(BaseCommand):
    help = (
        "Post a realistic signed webhook (Stripe, EasyPost, AfterShip) to the running demo "
        "server every few seconds, until Ctrl-C (DEBUG only)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=5, help="Seconds between two events (default 5)."
        )
        parser.add_argument("--url", default="", help="The running server (default: SITE_URL).")

    def handle(self, *args, every: float, url: str, **options):
        if not settings.DEBUG:
            raise CommandError(
                "demo_trickle writes made-up sales into the demo storefront; it runs with DEBUG "
                "on only",
                returncode=2,
            )
        if every <= 0:
            raise CommandError("--every must be a positive number of seconds", returncode=2)
        stop = threading.Event()
        # honcho stops its processes with SIGTERM, a terminal with SIGINT: both end the loop
        # between two events, and the command exits 0.
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
        trickle.run(base_url=url or settings.SITE_URL, every=every, stop=stop, log=self._log)
        self._log("stopped")

    def _log(self, line: str) -> None:
        self.stdout.write(f"{timezone.localtime():%H:%M:%S} trickle: {line}")
        self.stdout.flush()
