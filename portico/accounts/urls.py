from django.urls import path

from portico.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("sign-out/", views.sign_out, name="logout"),
    path("sign-up/", views.sign_up, name="signup"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("app/switch/<int:organization_id>/", views.switch_organization, name="switch"),
    path("app/account/language/", views.staff_language_set, name="language"),
    path("app/settings/organisation/", views.organization_profile, name="organization"),
    path("app/settings/team/", views.team, name="team"),
    path("app/settings/team/<int:membership_id>/role/", views.team_member_role, name="team_role"),
    path(
        "app/settings/team/<int:membership_id>/remove/",
        views.team_member_remove,
        name="team_remove",
    ),
    path(
        "app/settings/team/invitations/<int:invitation_id>/revoke/",
        views.team_invitation_revoke,
        name="team_invitation_revoke",
    ),
]
