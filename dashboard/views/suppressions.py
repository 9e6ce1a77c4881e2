"""The suppression list: the addresses buyer emails are never sent to again, why each is there,
and what the team may do about it (add an address; lift one, when the reason allows)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dashboard.access import member_view, scoped_or_404
from dashboard.forms.suppressions import LiftForm, SuppressionAddForm, SuppressionSearchForm
from dashboard.views.lists import page_of
from notifications.models import Suppression
from notifications.services.suppressions import (
    AlreadySuppressed,
    CannotLift,
    add_manual_suppression,
    can_lift,
    lift_suppression,
)

PAGE_SIZE = 25

# Why an address is on the list, in the merchant's words.
REASON_WORDS = {
    Suppression.Reason.UNSUBSCRIBED: gettext_lazy(
        "The buyer unsubscribed (a link in one of your emails, or their mail app's button)."
    ),
    Suppression.Reason.BOUNCED: gettext_lazy(
        "Emails to this address bounced: it does not exist or refuses mail."
    ),
    Suppression.Reason.COMPLAINED: gettext_lazy("The buyer marked one of your emails as spam."),
    Suppression.Reason.MANUAL: gettext_lazy("Added by your team."),
}


def _suppression_list(request, *, add_form=None, error="", status=200):
    current = request.storefront
    search = SuppressionSearchForm(request.GET)
    queryset = Suppression.objects.for_storefront(current).order_by("-created_at", "-pk")
    if search.is_valid():
        if search.cleaned_data["q"]:
            queryset = queryset.filter(email__icontains=search.cleaned_data["q"])
    else:
        queryset = queryset.none()
        status = 400
    page = page_of(request, queryset, PAGE_SIZE)
    rows = [
        (suppression, REASON_WORDS[suppression.reason], can_lift(suppression))
        for suppression in page.object_list
    ]
    return render(
        request,
        "dashboard/outbox/suppressions.html",
        {
            "storefront": current,
            "search": search,
            "page": page,
            "rows": rows,
            "add_form": add_form or SuppressionAddForm(),
            "error": error,
        },
        status=status,
    )


@member_view
def suppressions(request):
    """The list; a POST (owners and staff: member_view refuses viewers) adds an address."""
    if request.method != "POST":
        return _suppression_list(request)
    form = SuppressionAddForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["email"]
        try:
            add_manual_suppression(
                storefront=request.storefront,
                email=email,
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except AlreadySuppressed as exists:
            form.add_error(
                "email",
                _("%(email)s is already on the list (%(reason)s).")
                % {"email": email, "reason": exists.suppression.get_reason_display()},
            )
        else:
            messages.success(
                request, _("%(email)s will receive no more buyer emails.") % {"email": email}
            )
            return redirect("dashboard:suppressions", slug=request.storefront.slug)
    return _suppression_list(request, add_form=form, status=400)


@require_POST
@member_view
def suppression_lift(request, pk):
    current = request.storefront
    suppression = scoped_or_404(Suppression, current, pk=pk)
    form = LiftForm(request.POST)
    confirmed = form.is_valid() and form.cleaned_data["confirm"]
    words = {"email": suppression.email}
    try:
        lifted = lift_suppression(
            storefront=current, suppression=suppression, actor=request.user, confirmed=confirmed
        )
    except CannotLift as refused:
        if refused.needs_confirmation:
            error = _(
                "Emails to %(email)s bounced. Tick the box to confirm that the address receives "
                "email again, then lift it."
            )
            return _suppression_list(request, error=error % words, status=400)
        if suppression.reason == Suppression.Reason.UNSUBSCRIBED:
            error = _(
                "%(email)s unsubscribed. Only the buyer can decide to receive your emails again, "
                "so this cannot be lifted."
            )
        else:
            error = _(
                "%(email)s marked one of your emails as spam. Writing to this address again "
                "would harm the delivery of your emails, so this cannot be lifted."
            )
        return _suppression_list(request, error=error % words, status=409)
    if lifted:
        messages.success(
            request,
            _(
                "%(email)s is off the suppression list. Nothing is resent: only the emails "
                "scheduled from now on will reach this address."
            )
            % words,
        )
    else:
        messages.info(request, _("%(email)s was already off the list.") % words)
    return redirect("dashboard:suppressions", slug=current.slug)


urlpatterns = [
    path("suppressions/", suppressions, name="suppressions"),
    path("suppressions/<int:pk>/lift/", suppression_lift, name="suppression-lift"),
]
