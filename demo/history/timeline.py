"""The history being built: its storefront, its `now`, its random generator, what its parts keep
as they go, and the steps they plan, each at its time.

The parts (demo.history.sales, shipments, outbox) plan their steps with at(); demo.history.seed
replays them in time order. A step is a closure: the generator's draws it makes happen when it
runs, so the order of the steps is also the order of the draws.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from demo import checkouts, events
from demo.history.stamps import Stamps
from inbound import services as inbound
from inbound.models import InboundEvent
from notifications.models import EmailEvent
from payments.reasons import FailureReason
from storefront_settings.models import Membership, RecoveryPolicy, ShipmentPolicy, Storefront

# The headers stored with each tracking event: those its source's samples send, less the
# signature. (A payment event brings its own: demo.checkouts.)
HEADERS = {source: samples.HEADERS for source, samples in events.SAMPLES.items()}


@dataclass
class Summary:
    sales: int = 0
    shipments: int = 0
    events: int = 0
    messages: int = 0


@dataclass(order=True)
class Step:
    at: datetime
    seq: int
    action: object = field(compare=False)
    settles: bool = field(default=False, compare=False)


class Timeline:
    """A history being built: what every part reads (storefront, now, generator, policies) and
    what each keeps as it goes (the steps, the summary, the bounced addresses, the ESP's news)."""

    def __init__(self, storefront: Storefront, now: datetime, rng: random.Random):
        self.storefront = storefront
        self.now = now.replace(microsecond=0)
        self.rng = rng
        # Rows stamped by the services during the seed have times after this.
        self.stamped_after = timezone.now() - timedelta(seconds=1)
        self.owner = (
            Membership.objects.for_storefront(storefront)
            .filter(role=Membership.Role.OWNER)
            .select_related("user")
            .first()
            .user
        )
        self.policy = RecoveryPolicy.for_storefront(storefront)
        self.stalled_days = ShipmentPolicy.for_storefront(storefront).stalled_days
        self.steps: list[Step] = []
        self.summary = Summary()
        self.bounced: set[str] = set()
        self.esp_news: list[EmailEvent] = []
        # Reasons not yet seen in the last days (True) and before them (False).
        self.to_cover = {True: list(FailureReason), False: list(FailureReason)}
        # Payment providers none of whose sales has been paid in the end yet.
        self.unrecovered = set(checkouts.MIX)
        self.stamps = Stamps(storefront, self.stamped_after)

    def at(self, when: datetime, action, *, settles: bool = False) -> None:
        """Plan an action at `when`. One that settles a sale (a click, a payment, giving up)
        first lets the outbox send what was due, as the real one would have by then."""
        self.steps.append(Step(when.replace(microsecond=0), len(self.steps), action, settles))

    def sending_time(self, due: datetime) -> datetime:
        return self.storefront.quiet_hours_end_after(due) or due

    def store(
        self,
        provider: str,
        event_id: str,
        event_type: str,
        event: dict | str,
        *,
        headers: dict | None = None,
    ) -> InboundEvent | None:
        """Store an event (a dict is stored as JSON, a text as it is), with the source's
        headers unless given."""
        self.summary.events += 1
        return inbound.store(
            storefront=self.storefront,
            provider=provider,
            event_id=event_id,
            event_type=event_type,
            body=event if isinstance(event, str) else events.encode(event).decode(),
            headers=HEADERS[provider] if headers is None else headers,
        )
