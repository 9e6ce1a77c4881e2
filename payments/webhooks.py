"""The HTTP edge for payment providers: inbound.edge.WebhookView, one subclass per provider,
naming its adapter (payments.providers.<provider>.ADAPTER)."""

from inbound.edge import WebhookView
from payments.providers import adyen, stripe


class StripeWebhook(WebhookView):
    adapter = stripe.ADAPTER


class AdyenWebhook(WebhookView):
    adapter = adyen.ADAPTER


# One view function each, so that the URLconf and the benchmark (bench/webhook_ingest.py, which
# checks the URL resolves to this very function) name the same object.
stripe_webhook = StripeWebhook.as_view()
adyen_webhook = AdyenWebhook.as_view()
