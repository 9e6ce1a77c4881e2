"""Settings: provider connections (webhook URLs, signing secrets, a test event), API keys and
members. Owners and staff manage connections and keys; only owners manage members and their
invitations (accepted on dashboard.views.join, from the emailed link)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dashboard import invitations
from dashboard.access import member_view, scoped_or_404
from dashboard.forms.team import ApiKeyForm, InviteForm, ProviderSecretForm, RoleForm
from dashboard.sample_events import send_test_event
from storefront_settings import connections, selectors
from storefront_settings.models import ApiKey, Invitation, Membership, ProviderSecret
from storefront_settings.selectors import active_provider_secrets, webhook_path
from storefront_settings.services import credentials
from storefront_settings.services import members as member_services

# --- Connections --------------------------------------------------------------------------------


def _connection_or_404(provider: str) -> connections.Connection:
    connection = connections.find(provider)
    if connection is None:
        raise Http404("No such provider.")
    return connection


def _providers_page(request, *, form=None, result=None, status=200):
    """The connections page; `form` is a bound form to show with its errors, `result` the
    outcome of a test event."""
    current = request.storefront
    # The secret column is never loaded: the page has no way to show it.
    active = (
        ProviderSecret.objects.for_storefront(current)
        .filter(revoked_at__isnull=True)
        .defer("secret")
        .select_related("created_by")
        .order_by("-created_at")
    )
    by_provider = {}
    for secret in active:
        by_provider.setdefault(secret.provider, []).append(secret)
    sections = [
        {
            "provider": connection.key,
            "guide": connection.guide,
            "label": connection.label,
            "webhook_url": settings.SITE_URL
            + webhook_path(storefront=current, provider=connection.key),
            "secrets": by_provider.get(connection.key, []),
            "form": form
            if form is not None and form.provider == connection.key
            else ProviderSecretForm(provider=connection.key),
            "result": result if result is not None and result.provider == connection.key else None,
        }
        for connection in connections.all_connections()
    ]
    return render(
        request,
        "dashboard/settings/providers.html",
        {"storefront": current, "sections": sections, "can_change": request.can_change},
        status=status,
    )


@member_view
def providers(request):
    return _providers_page(request)


@require_POST
@member_view
def add_secret(request, provider):
    connection = _connection_or_404(provider)
    form = ProviderSecretForm(request.POST, provider=provider)
    if not form.is_valid():
        return _providers_page(request, form=form, status=400)
    secret = credentials.add_provider_secret(
        storefront=request.storefront,
        provider=provider,
        secret=form.cleaned_data["secret"],
        actor=request.user,
    )
    messages.success(
        request,
        _("Secret …%(hint)s added for %(provider)s.")
        % {"hint": secret.hint, "provider": connection.label},
    )
    return redirect("dashboard:settings-providers", slug=request.storefront.slug)


@require_POST
@member_view
def revoke_secret(request, pk):
    secret = scoped_or_404(ProviderSecret, request.storefront, pk=pk)
    label = {"hint": secret.hint, "provider": secret.get_provider_display()}
    if credentials.revoke_provider_secret(
        storefront=request.storefront, provider_secret=secret, actor=request.user
    ):
        messages.success(request, _("%(provider)s secret …%(hint)s revoked.") % label)
    else:
        messages.info(request, _("%(provider)s secret …%(hint)s was already revoked.") % label)
    return redirect("dashboard:settings-providers", slug=request.storefront.slug)


@require_POST
@member_view
def send_test(request, provider):
    connection = _connection_or_404(provider)
    current = request.storefront
    secrets = active_provider_secrets(storefront=current, provider=provider)
    if not secrets:
        messages.error(
            request,
            _("No active %(provider)s secret: add one first. Nothing was sent.")
            % {"provider": connection.label},
        )
        return redirect("dashboard:settings-providers", slug=current.slug)
    # The URL the provider is given (the connections page shows it): SITE_URL, never the
    # request's Host header, whose port Django does not check, so that no request can point
    # this server at another port or host and read the answer.
    url = settings.SITE_URL + webhook_path(storefront=current, provider=provider)
    result = send_test_event(
        storefront=current, provider=provider, url=url, secret=secrets[0], actor=request.user
    )
    return _providers_page(request, result=result)


# --- API keys -----------------------------------------------------------------------------------


def _api_keys_page(request, *, form=None, new_key=None, status=200):
    current = request.storefront
    return render(
        request,
        "dashboard/settings/api_keys.html",
        {
            "storefront": current,
            "keys": selectors.api_keys(storefront=current).select_related("created_by"),
            "form": form or ApiKeyForm(),
            "new_key": new_key,
            "can_change": request.can_change,
        },
        status=status,
    )


@member_view
def api_keys(request):
    return _api_keys_page(request)


@require_POST
@never_cache  # the response carries the raw key: no cache may keep it
@member_view
def create_api_key(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _api_keys_page(request, form=form, status=400)
    api_key, raw_key = credentials.create_api_key(
        storefront=request.storefront, name=form.cleaned_data["name"], actor=request.user
    )
    # Shown in this response only (a redirect would lose it, a flash message would store it).
    return _api_keys_page(request, new_key={"key": api_key, "raw": raw_key}, status=201)


@require_POST
@member_view
def revoke_api_key(request, pk):
    api_key = scoped_or_404(ApiKey, request.storefront, pk=pk)
    if credentials.revoke_api_key(
        storefront=request.storefront, api_key=api_key, actor=request.user
    ):
        messages.success(request, _("API key %(prefix)s… revoked.") % {"prefix": api_key.prefix})
    else:
        messages.info(
            request, _("API key %(prefix)s… was already revoked.") % {"prefix": api_key.prefix}
        )
    return redirect("dashboard:settings-api-keys", slug=request.storefront.slug)


# --- Members ------------------------------------------------------------------------------------


def _is_owner(request) -> bool:
    return request.membership is not None and request.membership.role == Membership.Role.OWNER


def _require_owner(request) -> None:
    # Staff may change settings but not who belongs to the storefront: checked here, on the
    # server, whatever the page shows.
    if not _is_owner(request):
        raise PermissionDenied


def _members_page(request, *, invite_form=None, error=None, status=200):
    current = request.storefront
    members = (
        Membership.objects.for_storefront(current)
        .select_related("user")
        .order_by("role", "user__email", "pk")
    )
    return render(
        request,
        "dashboard/settings/members.html",
        {
            "storefront": current,
            "members": [(member, RoleForm(initial={"role": member.role})) for member in members],
            "invitations": selectors.invitations_not_accepted(storefront=current),
            "now": timezone.now(),
            "invite_form": invite_form or InviteForm(storefront=current),
            "days": Invitation.LIFETIME.days,
            "error": error,
            "is_owner": _is_owner(request),
        },
        status=status,
    )


@member_view
def members(request):
    return _members_page(request)


@require_POST
@member_view
def invite_member(request):
    _require_owner(request)
    current = request.storefront
    form = InviteForm(request.POST, storefront=current)
    if not form.is_valid():
        return _members_page(request, invite_form=form, status=400)
    email = form.cleaned_data["email"]
    try:
        invitations.invite(
            storefront=current, email=email, role=form.cleaned_data["role"], actor=request.user
        )
    except ValidationError:
        # Joined between the form's check and the invitation.
        form.add_error(
            "email", _("%(email)s is already a member of this storefront.") % {"email": email}
        )
        return _members_page(request, invite_form=form, status=400)
    # The same answer whether or not the address has an account: the inviter learns nothing
    # about it, and gets no link either (it is in the email to the address only).
    messages.success(
        request,
        _(
            "Invitation emailed to %(email)s. They become a member once they accept it, within "
            "%(days)s days."
        )
        % {"email": email, "days": Invitation.LIFETIME.days},
    )
    return redirect("dashboard:settings-members", slug=current.slug)


@require_POST
@member_view
def resend_invitation(request, pk):
    current = request.storefront
    invitation = scoped_or_404(
        Invitation, current, pk=pk, accepted_at__isnull=True, revoked_at__isnull=True
    )
    _require_owner(request)
    try:
        invitations.resend(storefront=current, invitation=invitation, actor=request.user)
    except member_services.InvitationNotOpen:
        raise Http404("No such invitation.") from None  # accepted or revoked meanwhile
    messages.success(
        request,
        _(
            "A new invitation was emailed to %(email)s, valid %(days)s days; the link sent "
            "before no longer works."
        )
        % {"email": invitation.email, "days": Invitation.LIFETIME.days},
    )
    return redirect("dashboard:settings-members", slug=current.slug)


@require_POST
@member_view
def revoke_invitation(request, pk):
    current = request.storefront
    invitation = scoped_or_404(Invitation, current, pk=pk)
    _require_owner(request)
    words = {"email": invitation.email}
    if invitations.revoke(storefront=current, invitation=invitation, actor=request.user):
        messages.success(
            request, _("The invitation to %(email)s is revoked: its link no longer works.") % words
        )
    elif invitation.accepted_at is not None:
        messages.info(request, _("%(email)s had already accepted the invitation.") % words)
    else:
        messages.info(request, _("The invitation to %(email)s was already revoked.") % words)
    return redirect("dashboard:settings-members", slug=current.slug)


@require_POST
@member_view
def change_role(request, pk):
    member = scoped_or_404(Membership, request.storefront, pk=pk)
    _require_owner(request)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _members_page(request, error=_("Choose owner, staff or viewer."), status=400)
    try:
        changed = member_services.change_member_role(
            storefront=request.storefront,
            membership=member,
            role=form.cleaned_data["role"],
            actor=request.user,
        )
    except ValidationError:
        return _members_page(
            request,
            error=_(
                "%(email)s is the only owner: make another member owner first, then change "
                "this role."
            )
            % {"email": member.user.email},
            status=400,
        )
    if changed:
        messages.success(
            request,
            _("%(email)s is now %(role)s.")
            % {"email": member.user.email, "role": member.get_role_display()},
        )
    return redirect("dashboard:settings-members", slug=request.storefront.slug)


@require_POST
@member_view
def remove_member(request, pk):
    member = scoped_or_404(Membership, request.storefront, pk=pk)
    _require_owner(request)
    try:
        member_services.remove_member(
            storefront=request.storefront, membership=member, actor=request.user
        )
    except ValidationError:
        return _members_page(
            request,
            error=_(
                "%(email)s is the only owner and cannot be removed: make another member owner "
                "first."
            )
            % {"email": member.user.email},
            status=400,
        )
    messages.success(request, _("%(email)s was removed.") % {"email": member.user.email})
    if member.user_id == request.user.pk:
        return redirect("dashboard:home")  # they left: this storefront is no longer theirs
    return redirect("dashboard:settings-members", slug=request.storefront.slug)


urlpatterns = [
    path("settings/providers/", providers, name="settings-providers"),
    path(
        "settings/providers/<str:provider>/secrets/",
        add_secret,
        name="settings-providers-add-secret",
    ),
    path(
        "settings/providers/secrets/<int:pk>/revoke/",
        revoke_secret,
        name="settings-providers-revoke",
    ),
    path("settings/providers/<str:provider>/test/", send_test, name="settings-providers-test"),
    path("settings/api-keys/", api_keys, name="settings-api-keys"),
    path("settings/api-keys/new/", create_api_key, name="settings-api-keys-create"),
    path("settings/api-keys/<int:pk>/revoke/", revoke_api_key, name="settings-api-keys-revoke"),
    path("settings/members/", members, name="settings-members"),
    path("settings/members/invite/", invite_member, name="settings-members-invite"),
    path(
        "settings/members/invitations/<int:pk>/resend/",
        resend_invitation,
        name="settings-invitation-resend",
    ),
    path(
        "settings/members/invitations/<int:pk>/revoke/",
        revoke_invitation,
        name="settings-invitation-revoke",
    ),
    path("settings/members/<int:pk>/role/", change_role, name="settings-members-role"),
    path("settings/members/<int:pk>/remove/", remove_member, name="settings-members-remove"),
]
