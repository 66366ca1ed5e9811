"""Back office: /app/notifications/… (the bell, the Notifications page, preferences)."""

from django.urls import path

from portico.activity import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/count/", views.bell_count, name="bell_count"),
    path("bell/", views.bell_dropdown, name="bell"),
    path("read-all/", views.notifications_mark_all_read, name="read_all"),
    path("preferences/", views.notification_preferences, name="preferences"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("<int:pk>/read/", views.notification_mark_read, name="read"),
    path("<int:pk>/unread/", views.notification_mark_unread, name="unread"),
]
