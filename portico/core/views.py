from django.shortcuts import redirect, render

from portico.accounts.decorators import staff_view
from portico.core.selectors import dashboard


def root(request):
    return redirect("core:home" if request.user.is_authenticated else "accounts:login")


@staff_view
def home(request):
    summary = dashboard(organization=request.organization)
    return render(
        request,
        "core/home.html",
        {"dashboard": summary, "customers": summary.customers, "emails": summary.emails},
    )


def healthz(request):
    from django.db import connection
    from django.http import JsonResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
