"""The customer portal: /portal/<portal-name>/…

Each area's views live in their own module; every view goes through
``portico.portal.access.portal_view`` (signed-in pages, with the page's
module) or ``portal_public_view``.
"""

from django.urls import path

from portico.portal import (
    views,
    views_account,
    views_comments,
    views_documents,
    views_pay,
    views_pay_status,
    views_pay_test_gateway,
    views_projects,
    views_quotes,
    views_signup,
    views_statement,
)

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("accept/<str:token>/", views.accept_invitation, name="accept"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_sent, name="password_reset_sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("account/password/", views.password_change, name="password_change"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("account/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path(
        "account/two-factor/recovery-codes/",
        views.two_factor_recovery_codes,
        name="two_factor_recovery_codes",
    ),
    # Self sign-up
    path("signup/", views_signup.signup, name="signup"),
    path("signup/sent/", views_signup.signup_sent, name="signup_sent"),
    path("signup/verify/<str:token>/", views_signup.signup_verify, name="signup_verify"),
    # Documents (lists, details, PDFs; a detail page records the view)
    path("quotes/", views_documents.quote_list, name="quote_list"),
    path("quotes/<int:pk>/", views_documents.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/pdf/", views_documents.quote_pdf, name="quote_pdf"),
    path("sales-orders/", views_documents.sales_order_list, name="sales_order_list"),
    path("sales-orders/<int:pk>/", views_documents.sales_order_detail, name="sales_order_detail"),
    path("sales-orders/<int:pk>/pdf/", views_documents.sales_order_pdf, name="sales_order_pdf"),
    path("invoices/", views_documents.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views_documents.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", views_documents.invoice_pdf, name="invoice_pdf"),
    path("payments/", views_documents.payment_list, name="payment_list"),
    path("payments/<int:pk>/", views_documents.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/pdf/", views_documents.payment_pdf, name="payment_pdf"),
    path("credit-notes/", views_documents.credit_note_list, name="credit_note_list"),
    path("credit-notes/<int:pk>/", views_documents.credit_note_detail, name="credit_note_detail"),
    path("credit-notes/<int:pk>/pdf/", views_documents.credit_note_pdf, name="credit_note_pdf"),
    # Quote decisions
    path("quotes/<int:pk>/accept/", views_quotes.quote_accept, name="quote_accept"),
    path("quotes/<int:pk>/decline/", views_quotes.quote_decline, name="quote_decline"),
    path("quotes/<int:pk>/certificate/", views_quotes.quote_certificate, name="quote_certificate"),
    # Comments (posting; the threads show on each document's page)
    path("quotes/<int:pk>/comments/", views_comments.quote_comment, name="quote_comment"),
    path(
        "sales-orders/<int:pk>/comments/",
        views_comments.sales_order_comment,
        name="sales_order_comment",
    ),
    path("invoices/<int:pk>/comments/", views_comments.invoice_comment, name="invoice_comment"),
    path("projects/<int:pk>/comments/", views_comments.project_comment, name="project_comment"),
    path(
        "comments/attachments/<int:pk>/",
        views_comments.attachment_download,
        name="comment_attachment",
    ),
    # Statement, projects and timesheets
    path("statement/", views_statement.statement, name="statement"),
    path("statement/pdf/", views_statement.statement_pdf, name="statement_pdf"),
    path("projects/", views_projects.project_list, name="project_list"),
    path("projects/<int:pk>/", views_projects.project_detail, name="project_detail"),
    path("projects/<int:pk>/approve/", views_projects.time_entries_approve, name="project_approve"),
    # My details and security
    path("account/", views_account.details, name="details"),
    path("account/edit/", views_account.details_edit, name="details_edit"),
    path("account/contacts/new/", views_account.contact_create, name="contact_create"),
    path("account/contacts/<int:pk>/edit/", views_account.contact_edit, name="contact_edit"),
    path("account/security/", views_account.security, name="security"),
    path(
        "account/sign-out-everywhere/",
        views_account.sign_out_everywhere,
        name="sign_out_everywhere",
    ),
    path("account/language/", views_account.language_set, name="language_set"),
    # Online payment (issue 6): choose invoices and amounts, then the provider
    path("pay/", views_pay.pay, name="pay"),
    path("pay/<int:pk>/", views_pay_status.checkout_status, name="checkout_status"),
    path("pay/<int:pk>/cancel/", views_pay_status.checkout_cancel, name="checkout_cancel"),
    path("pay/<int:pk>/card/", views_pay_test_gateway.card, name="test_gateway_card"),
]
