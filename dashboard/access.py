"""Who may see and change a storefront's pages. Every dashboard view goes through member_view."""

from functools import partial, wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect

from storefront_settings.models import Membership
from storefront_settings.selectors import membership_for_slug

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def member_view(view=None, *, viewers_may_post: bool = False, before_two_factor: bool = False):
    """Resolve <slug> to one of the user's storefronts (404 for another's or a missing one),
    attach it as request.storefront with request.membership and request.can_change, and refuse
    any change by a viewer with 403 here, on the server, whatever the page shows.

    `@member_view(viewers_may_post=True)` is for a page that changes only the member's own row
    (their alert preferences), never the storefront's: there a viewer may POST too.

    When the storefront requires two-factor login, a member whose session was not verified with
    a code is sent to their two-factor page, the only pages (`before_two_factor=True`) they
    may open here until then."""
    if view is None:
        return partial(
            member_view, viewers_may_post=viewers_may_post, before_two_factor=before_two_factor
        )

    @login_required
    @wraps(view)
    def wrapper(request, slug, *args, **kwargs):
        member = membership_for_slug(user=request.user, slug=slug)
        request.storefront = member.storefront
        request.membership = member
        request.can_change = member.role != Membership.Role.VIEWER
        request.two_factor_missing = (
            member.storefront.require_two_factor and not request.user.is_verified()
        )
        if request.two_factor_missing and not before_two_factor:
            return redirect("dashboard:settings-two-factor", slug=member.storefront.slug)
        if request.method not in SAFE_METHODS and not (request.can_change or viewers_may_post):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def scoped_or_404(model, storefront, **lookup):
    """One object of this storefront, or Http404 for a missing one and another's alike."""
    item = model.objects.for_storefront(storefront).filter(**lookup).first()
    if item is None:
        raise Http404(f"No such {model._meta.verbose_name}.")
    return item
