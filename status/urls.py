from django.urls import path

from . import views

app_name = "status"

# Mounted at the site's root. The settings live under /accounts/, outside the project slugs:
# under /status/, a project slugged "settings" would hide them, or they it.
urlpatterns = [
    path("status/", views.status_index, name="index"),
    path("status/<slug:slug>/", views.project_status_page, name="project"),
    path("status/<slug:slug>/feed/<str:token>.atom", views.project_feed, name="feed"),
    path("accounts/settings/", views.status_settings, name="settings"),
    path("accounts/settings/feed-token/reset/", views.feed_token_reset, name="feed-token-reset"),
]
