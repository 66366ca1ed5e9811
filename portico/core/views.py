from django.db.models import Count, Q
from django.shortcuts import redirect, render

from portico.accounts.decorators import staff_view
from portico.customers.models import Customer
from portico.mail.models import EmailStatus, OutboundEmail


def root(request):
    return redirect("core:home" if request.user.is_authenticated else "accounts:login")


@staff_view
def home(request):
    organization = request.organization
    customers = Customer.objects.filter(organization=organization).aggregate(
        total=Count("id"), active=Count("id", filter=Q(is_active=True))
    )
    emails = OutboundEmail.objects.filter(organization=organization).aggregate(
        queued=Count("id", filter=Q(status__in=[EmailStatus.QUEUED, EmailStatus.SENDING])),
        failed=Count("id", filter=Q(status=EmailStatus.FAILED)),
    )
    return render(request, "core/home.html", {"customers": customers, "emails": emails})


def healthz(request):
    from django.db import connection
    from django.http import JsonResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
