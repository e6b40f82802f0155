from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("v1/", include("api.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("status.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
]
