"""Staff pages for sales orders: list, new/edit, detail, confirm, fulfilment,
convert to invoice, void, PDF."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from portico.accounts.decorators import staff_view
from portico.comments.selectors import staff_thread_context
from portico.customers.models import Customer
from portico.sales import selectors_orders
from portico.sales.forms_orders import FulfilmentForm, SalesOrderForm
from portico.sales.history import history_of
from portico.sales.models import FulfilmentStatus, SalesOrder, SalesOrderStatus
from portico.sales.selectors import DocumentFilters
from portico.sales.services import orders as services
from portico.sales.services.common import DocumentStateError, SalesError
from portico.sales.views.document_form import document_form_page
from portico.sales.views.invoices import list_query

PAGE_SIZE = 50
RESULTS_TARGET = "order-results"


def _get_order(request, pk: int) -> SalesOrder:
    try:
        return selectors_orders.sales_order_get(organization=request.organization, pk=pk)
    except SalesOrder.DoesNotExist as error:
        raise Http404 from error


@staff_view
def order_list(request):
    organization = request.organization
    filters = DocumentFilters.from_query(request.GET)
    fulfilment = request.GET.get("fulfilment", "")
    orders = selectors_orders.sales_order_list(
        organization=organization, filters=filters, fulfilment=fulfilment
    )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "fulfilment": fulfilment,
        "status_choices": SalesOrderStatus.choices,
        "fulfilment_choices": FulfilmentStatus.choices,
        "has_documents": bool(page.object_list)
        or selectors_orders.sales_order_exists(organization=organization),
        "filter_customer": Customer.objects.filter(
            organization=organization, pk=filters.customer_id
        ).first()
        if filters.customer_id
        else None,
    }
    if request.htmx and request.htmx.target == RESULTS_TARGET:
        response = render(request, "sales/orders/partials/_order_results.html", context)
        query = list_query(request.GET)
        return push_url(response, reverse("sales_orders:list") + (f"?{query}" if query else ""))
    return render(request, "sales/orders/order_list.html", context)


def _initial(order: SalesOrder | None, request) -> dict:
    if order is None:
        customer = request.GET.get("customer", "")
        return {
            "date": timezone.localdate(),
            "customer": int(customer) if customer.isdigit() else None,
        }
    return {
        "customer": order.customer_id,
        "date": order.date,
        "reference": order.reference,
        "contacts": [contact.pk for contact in order.contacts.all()],
        "notes": order.notes,
        "terms": order.terms,
        "expected_shipment_date": order.expected_shipment_date,
    }


def _form_page(request, order: SalesOrder | None):
    organization = request.organization
    if order is not None:
        try:
            services.sales_order_check_editable(order=order)
        except DocumentStateError as error:
            messages.error(request, error.message)
            return redirect("sales_orders:detail", pk=order.pk)
    form = SalesOrderForm(
        request.POST or None, initial=_initial(order, request), organization=organization
    )

    def save(lines):
        data = form.document_data(lines)
        if order is None:
            saved = services.sales_order_create(
                organization=organization, data=data, actor=request.user
            )
            return saved, _("Sales order %(number)s created.") % {"number": saved}
        saved = services.sales_order_update(order=order, data=data, actor=request.user)
        return saved, _("Sales order %(number)s saved.") % {"number": saved}

    return document_form_page(
        request,
        document=order,
        form=form,
        save=save,
        template="sales/orders/order_form.html",
        context_name="order",
        detail_url="sales_orders:detail",
    )


@staff_view
def order_create(request):
    return _form_page(request, None)


@staff_view
def order_edit(request, pk: int):
    return _form_page(request, _get_order(request, pk))


def _detail_page(request, pk: int, *, fulfilment_form: FulfilmentForm | None = None):
    try:
        order = selectors_orders.sales_order_detail(organization=request.organization, pk=pk)
    except SalesOrder.DoesNotExist as error:
        raise Http404 from error
    if fulfilment_form is None:
        fulfilment_form = FulfilmentForm(
            initial={
                "fulfilment_status": order.fulfilment_status,
                "shipment_date": order.shipment_date or timezone.localdate(),
                "carrier": order.carrier,
                "tracking_number": order.tracking_number,
            }
        )
    status = order.status
    return render(
        request,
        "sales/orders/order_detail.html",
        {
            "order": order,
            "document": order,
            "history": history_of(document=order),
            **staff_thread_context(request, order),
            "fulfilment_form": fulfilment_form,
            "can_edit": status in services.EDITABLE_STATUSES,
            "can_confirm": status == SalesOrderStatus.DRAFT,
            "can_convert": status in services.EDITABLE_STATUSES,
            "can_void": status in services.EDITABLE_STATUSES,
            "can_ship": status in services.SHIPPABLE_STATUSES,
        },
        status=422 if fulfilment_form.is_bound else 200,
    )


@staff_view
def order_detail(request, pk: int):
    return _detail_page(request, pk)


@require_POST
@staff_view
def order_confirm(request, pk: int):
    order = _get_order(request, pk)
    try:
        services.sales_order_confirm(order=order, actor=request.user)
    except SalesError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Sales order %(number)s confirmed.") % {"number": order})
    return redirect("sales_orders:detail", pk=order.pk)


@require_POST
@staff_view
def order_fulfilment(request, pk: int):
    order = _get_order(request, pk)
    form = FulfilmentForm(request.POST)
    if form.is_valid():
        try:
            services.sales_order_set_fulfilment(
                order=order,
                fulfilment_status=form.cleaned_data["fulfilment_status"],
                shipment_date=form.cleaned_data["shipment_date"],
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
                actor=request.user,
            )
        except DocumentStateError as error:
            messages.error(request, error.message)
            return redirect("sales_orders:detail", pk=order.pk)
        except SalesError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request, _("Fulfilment of %(number)s saved.") % {"number": order.number}
            )
            return redirect("sales_orders:detail", pk=order.pk)
    return _detail_page(request, order.pk, fulfilment_form=form)


@require_POST
@staff_view
def order_convert_to_invoice(request, pk: int):
    order = _get_order(request, pk)
    try:
        invoice = services.sales_order_convert_to_invoice(order=order, actor=request.user)
    except SalesError as error:
        messages.error(request, error.message)
        return redirect("sales_orders:detail", pk=order.pk)
    messages.success(
        request,
        _("Invoice %(invoice)s created from %(order)s.")
        % {"invoice": invoice.number, "order": order.number},
    )
    return redirect("invoices:detail", pk=invoice.pk)


@require_POST
@staff_view
def order_void(request, pk: int):
    order = _get_order(request, pk)
    try:
        services.sales_order_void(order=order, actor=request.user)
    except SalesError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Sales order %(number)s is void.") % {"number": order})
    return redirect("sales_orders:detail", pk=order.pk)


@staff_view
def order_pdf(request, pk: int):
    from portico.core.pdf import pdf_response
    from portico.sales.pdf import document_pdf

    order = _get_order(request, pk)
    return pdf_response(
        document_pdf(document=order, language=request.LANGUAGE_CODE),
        filename=f"{order.number}.pdf",
    )
