"""The emails log: what was sent (or is due) to whom, and one message with its timeline and a
preview of what it says. The suppression list is in suppressions.py."""

from dataclasses import dataclass

from csp.decorators import csp
from django.contrib.contenttypes.models import ContentType
from django.db.models.fields.json import KT
from django.http import HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin

from dashboard.access import member_view, scoped_or_404
from dashboard.forms.outbox import KINDS, MessageFilterForm, describe_template
from dashboard.views.lists import page_of
from notifications import rendering
from notifications.models import EmailEvent, Message, Suppression
from notifications.services import sending
from payments.models import LostSale
from tracking.models import Shipment

PAGE_SIZE = 25
Status = Message.Status
Delivery = Message.Delivery

STATUS_BADGE = {
    Status.SCHEDULED: "",
    Status.SENDING: "warn",
    Status.SENT: "good",
    Status.FAILED: "bad",
    Status.CANCELLED: "",
    Status.SUPPRESSED: "bad",
}
DELIVERY_BADGE = {
    Delivery.DEFERRED: "warn",
    Delivery.DELIVERED: "good",
    Delivery.OPENED: "good",
    Delivery.CLICKED: "good",
    Delivery.REJECTED: "bad",
    Delivery.BOUNCED: "bad",
    Delivery.COMPLAINED: "bad",
}

# anymail's event types (anymail.signals.EventType), as the timeline tells them.
EVENT_WORDS = {
    "queued": gettext_lazy("Accepted by the email provider"),
    "sent": gettext_lazy("Sent by the email provider"),
    "rejected": gettext_lazy("Refused by the email provider before sending"),
    "failed": gettext_lazy("The email provider could not send it"),
    "bounced": gettext_lazy("Bounced: the receiving server refused it"),
    "deferred": gettext_lazy("Delayed: the receiving server asked to try again later"),
    "delivered": gettext_lazy("Delivered to the recipient's mail server"),
    "autoresponded": gettext_lazy("An automatic reply came back"),
    "opened": gettext_lazy("Opened"),
    "clicked": gettext_lazy("A link in it was clicked"),
    "complained": gettext_lazy("Marked as spam by the recipient"),
    "unsubscribed": gettext_lazy("The recipient unsubscribed"),
    "subscribed": gettext_lazy("The recipient subscribed again"),
}

ErrorCode = Message.ErrorCode
# The codes that are a failed attempt to send (not a decision not to): the exception's class is
# named for the merchant to quote to support, and a scheduled one is retried.
SEND_FAILURES = {
    ErrorCode.TEMPLATE_ERROR,
    ErrorCode.RECIPIENT_REFUSED,
    ErrorCode.ESP_ERROR,
    ErrorCode.ESP_UNREACHABLE,
    ErrorCode.UNEXPECTED,
}


def explain_error(message: Message) -> str:
    """Why a message did not go (yet), in plain words, from the code the outbox stored. The
    stored error text is for ops (admin): it is the exception's text, which may quote a
    provider's response, so the page shows no more of it than the kind of error."""
    if not message.error_code:
        return ""
    words = str(ErrorCode(message.error_code).label)
    if message.error_code not in SEND_FAILURES:
        return words
    if message.status == Status.SCHEDULED:
        words += " " + _("It will be tried again automatically.")
    # notifications.services.sending keeps "ExceptionClass: its text".
    kind = message.last_error.partition(":")[0].strip()
    if kind.isidentifier():
        words += " " + _("(technical name: %(kind)s)") % {"kind": kind}
    return words


@dataclass(frozen=True)
class About:
    url: str
    label: str


def _about_links(storefront, rows: list[Message]) -> dict[int, About]:
    """What each message is about (a lost sale, a shipment), with the page to open: one query
    per kind of object, whatever the number of messages."""
    kinds = {
        ContentType.objects.get_for_model(LostSale).pk: (LostSale, "dashboard:lost-sale"),
        ContentType.objects.get_for_model(Shipment).pk: (Shipment, "dashboard:shipment"),
    }
    wanted: dict[int, set[int]] = {}
    for message in rows:
        if message.about_type_id in kinds and message.about_id.isdigit():
            wanted.setdefault(message.about_type_id, set()).add(int(message.about_id))
    found: dict[tuple[int, int], About] = {}
    for type_id, ids in wanted.items():
        model, url_name = kinds[type_id]
        objects = model.objects.for_storefront(storefront).filter(pk__in=ids)
        for pk, order in objects.values_list("pk", "order_reference"):
            noun = _("Lost sale") if model is LostSale else _("Shipment")
            url = reverse(url_name, args=[storefront.slug, pk])
            found[(type_id, pk)] = About(url, f"{noun} {order or f'#{pk}'}")
    return {
        message.pk: found[(message.about_type_id, int(message.about_id))]
        for message in rows
        if message.about_id.isdigit() and (message.about_type_id, int(message.about_id)) in found
    }


@dataclass(frozen=True)
class Row:
    message: Message
    what: str
    about: About | None
    status_badge: str
    delivery_badge: str


def _rows(storefront, page_messages: list[Message]) -> list[Row]:
    about = _about_links(storefront, page_messages)
    return [
        Row(
            message=message,
            what=describe_template(message.template),
            about=about.get(message.pk),
            status_badge=STATUS_BADGE.get(message.status, ""),
            delivery_badge=DELIVERY_BADGE.get(message.delivery, ""),
        )
        for message in page_messages
    ]


@member_view
def message_log(request):
    current = request.storefront
    form = MessageFilterForm(request.GET, storefront=current)
    valid = form.is_valid()
    queryset = (
        Message.objects.for_storefront(current)
        # The log shows none of the bodies or the context, which can be large (a digest).
        .defer("context", "body_text", "body_html", "last_error")
        .annotate(step=KT("context__step"), steps=KT("context__steps"))
    )
    queryset = form.filter(queryset) if valid else queryset.none()
    page = page_of(request, queryset, PAGE_SIZE)
    return render(
        request,
        "dashboard/outbox/messages.html",
        {
            "storefront": current,
            "form": form,
            "page": page,
            "rows": _rows(current, list(page.object_list)),
            "kinds": KINDS,
        },
        status=200 if valid else 400,
    )


@dataclass(frozen=True)
class Preview:
    subject: str
    text: str
    html: str
    as_sent: bool
    error: str = ""


def preview_of(message: Message) -> Preview:
    """What the message says: as sent, when it was; else rendered now, in its language, from
    its stored context and the storefront's current brand (as it will be when it goes)."""
    if message.status == Status.SENT and (message.body_html or message.body_text):
        return Preview(message.subject, message.body_text, message.body_html, as_sent=True)
    try:
        rendered = rendering.render(
            template=message.template,
            storefront=message.storefront,
            context=message.context,
            locale=message.locale,
            recipient=message.to,
            audience=message.audience,
        )
    except (TemplateDoesNotExist, TemplateSyntaxError):
        error = _("This email's template is missing or broken, so it cannot be shown.")
        return Preview("", "", "", as_sent=False, error=error)
    return Preview(rendered.subject, rendered.text, rendered.html, as_sent=False)


def _message(request, pk) -> Message:
    message = scoped_or_404(Message, request.storefront, pk=pk)
    message.storefront = request.storefront  # the same row; saves a query when rendering
    return message


@member_view
def message(request, pk):
    current = request.storefront
    email = _message(request, pk)
    sender, reply_to = sending.sender(current)
    events = EmailEvent.objects.for_storefront(current).filter(message=email)
    suppression = None
    if email.is_buyer_facing:
        suppression = Suppression.objects.for_storefront(current).filter(email=email.to).first()
    return render(
        request,
        "dashboard/outbox/message.html",
        {
            "storefront": current,
            "email": email,
            "what": describe_template(email.template),
            "kind": KINDS.get(email.kind, email.kind),
            "about": _about_links(current, [email]).get(email.pk),
            "sender": sender,
            "reply_to": reply_to,
            "error": explain_error(email),
            "max_attempts": sending.MAX_ATTEMPTS,
            "delayed": email.status == Status.SCHEDULED and email.next_attempt_at > email.send_at,
            "status_badge": STATUS_BADGE.get(email.status, ""),
            "delivery_badge": DELIVERY_BADGE.get(email.delivery, ""),
            "events": [
                (event, EVENT_WORDS.get(event.event_type, event.event_type))
                for event in events.order_by("occurred_at", "pk")
            ],
            "suppression": suppression,
            "preview": preview_of(email),
        },
    )


# The email's HTML is shown in a sandboxed <iframe> that loads this URL. Not srcdoc: a srcdoc
# document inherits the dashboard page's CSP, which refuses inline styles without a nonce, and
# emails are styled inline, so it would show unstyled. This response gets a policy of its own:
# inline styles and https images only, no script, no form, no plugin; `sandbox` even when it is
# opened on its own; framed by our own pages only (the site's X-Frame-Options is DENY).
PREVIEW_POLICY = {
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:", "https:"],
    "font-src": ["data:", "https:"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
    "frame-ancestors": ["'self'"],
    "sandbox": True,
}
# A click in the preview must not count as the buyer's (a recovery link records the first click
# and "recovered after a click"), nor unsubscribe them: the links are shown, not followed.
PREVIEW_STYLE = "<style>a { pointer-events: none; cursor: default; }</style>"


@xframe_options_sameorigin
@csp(PREVIEW_POLICY)
@member_view
def message_preview(request, pk):
    preview = preview_of(_message(request, pk))
    html = preview.html or "<!doctype html><p></p>"
    if "</head>" in html:
        html = html.replace("</head>", PREVIEW_STYLE + "</head>", 1)
    else:
        html = PREVIEW_STYLE + html
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("messages/", message_log, name="messages"),
    # One message: its headers and a rendered preview (lost sales and shipments link here).
    path("messages/<int:pk>/", message, name="message"),
    path("messages/<int:pk>/preview/", message_preview, name="message-preview"),
]
