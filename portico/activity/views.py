"""Back office: the bell, the Notifications page and Notification preferences.

The bell lives in the staff topbar (``templates/staff/layout.html``): its
count and its dropdown are fetched by htmx (``load``, then every 30 seconds
while the tab is visible), so rendering a page costs no query for it.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.accounts.decorators import staff_view
from portico.activity import selectors, services_inbox
from portico.activity.forms import NotificationFilterForm, NotificationPreferencesForm
from portico.activity.models import Channel, Notification
from portico.activity.summaries import event_staff_url

PAGE_SIZE = 25
# Sent with every change so the bell's count refreshes at once.
CHANGED_EVENT = "notifications-changed"


def _scope(request) -> dict:
    return {"user": request.user, "organization": request.organization}


def _back(request) -> str:
    """Where a plain (no JavaScript) form goes back to: its ``next``, if ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("notifications:list")


def _changed(response: HttpResponse) -> HttpResponse:
    response["HX-Trigger"] = CHANGED_EVENT
    return response


@staff_view
def bell_count(request):
    unread = selectors.notifications_unread_count(**_scope(request))
    return render(
        request,
        "activity/partials/_bell_count.html",
        {"unread": unread, "over_cap": unread > selectors.UNREAD_COUNT_CAP},
    )


def _render_dropdown(request) -> HttpResponse:
    return render(
        request,
        "activity/partials/_bell_dropdown.html",
        {"notifications": selectors.notifications_latest(**_scope(request))},
    )


@staff_view
def bell_dropdown(request):
    return _render_dropdown(request)


@staff_view
def notification_open(request, pk: int):
    """Follow a notification to its document, marking it read."""
    try:
        notification = selectors.notification_get(**_scope(request), pk=pk)
    except Notification.DoesNotExist as error:
        raise Http404 from error
    services_inbox.notification_mark_read(**_scope(request), pk=notification.pk)
    return redirect(event_staff_url(notification.event) or reverse("notifications:list"))


@staff_view
def notification_list(request):
    form = NotificationFilterForm(request.GET)
    filters = form.filters()
    notifications = selectors.notifications_list(**_scope(request), **filters)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "form": form,
        "filters": filters,
        "filter_customer": selectors.notification_filter_customer(
            organization=request.organization, customer_id=filters["customer_id"]
        ),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "activity/partials/_notification_results.html", context)
    return render(request, "activity/notification_list.html", context)


def _mark(request, pk: int, *, read: bool):
    mark = (
        services_inbox.notification_mark_read if read else services_inbox.notification_mark_unread
    )
    try:
        notification = selectors.notification_get(**_scope(request), pk=pk)
    except Notification.DoesNotExist as error:
        raise Http404 from error
    mark(**_scope(request), pk=notification.pk)
    if request.htmx:
        notification.refresh_from_db(fields=["read_at"])
        return _changed(
            render(
                request,
                "activity/partials/_notification_row.html",
                {
                    "notification": notification,
                    "next_url": request.htmx.current_url_abs_path or "",
                },
            )
        )
    return redirect(_back(request))


@require_POST
@staff_view
def notification_mark_read(request, pk: int):
    return _mark(request, pk, read=True)


@require_POST
@staff_view
def notification_mark_unread(request, pk: int):
    return _mark(request, pk, read=False)


@require_POST
@staff_view
def notifications_mark_all_read(request):
    marked = services_inbox.notifications_mark_all_read(**_scope(request))
    if request.htmx and request.POST.get("from") == "bell":
        return _changed(_render_dropdown(request))
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return _changed(response)
    if marked:
        messages.success(request, _("All notifications are marked as read."))
    return redirect(_back(request))


@staff_view
def notification_preferences(request):
    scope = _scope(request)
    switches = selectors.notification_switches(organization=request.organization)
    saved = selectors.notification_preferences_get(**scope)
    form = NotificationPreferencesForm(
        request.POST or None,
        default_channel=switches.default_channel,
        channels=saved.channels if saved is not None else {},
        initial={"only_my_customers": saved.only_my_customers if saved is not None else False},
    )
    if request.method == "POST" and form.is_valid():
        services_inbox.notification_preferences_save(
            **scope,
            channels=form.channels(),
            only_my_customers=form.cleaned_data["only_my_customers"],
        )
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("notifications:preferences")
    return render(
        request,
        "activity/notification_preferences.html",
        {
            "form": form,
            "switches": switches,
            "channels": Channel.choices,
            "default_channel": switches.default_channel,
        },
        status=422 if request.method == "POST" else 200,
    )
