"""The HTTP edge for tracking sources (EasyPost, AfterShip, the generic format):
inbound.edge.WebhookView, one subclass per source, naming its adapter
(tracking.providers.<source>.ADAPTER)."""

from inbound.edge import WebhookView
from tracking.providers import aftership, easypost, generic


class EasyPostWebhook(WebhookView):
    adapter = easypost.ADAPTER


class AfterShipWebhook(WebhookView):
    adapter = aftership.ADAPTER


class GenericWebhook(WebhookView):
    adapter = generic.ADAPTER


easypost_webhook = EasyPostWebhook.as_view()
aftership_webhook = AfterShipWebhook.as_view()
generic_webhook = GenericWebhook.as_view()
