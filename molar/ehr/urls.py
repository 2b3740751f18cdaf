from django.urls import path

from . import views

app_name = "ehr"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("electronic-copy-access.csv", views.dashboard_csv, name="csv"),
]
