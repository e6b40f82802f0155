from django.urls import path

from . import views

app_name = "status"

urlpatterns = [
    path("", views.status_index, name="index"),
    path("<slug:slug>/", views.project_status_page, name="project"),
]
