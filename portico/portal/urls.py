"""The customer portal: /portal/<portal-name>/…"""

from django.urls import path

from portico.portal import views, views_signup

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
    # Self sign-up (P1)
    path("signup/", views_signup.signup, name="signup"),
    path("signup/sent/", views_signup.signup_sent, name="signup_sent"),
    path("signup/verify/<str:token>/", views_signup.signup_verify, name="signup_verify"),
]
