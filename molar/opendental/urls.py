from django.urls import path

from . import views

app_name = "opendental"
urlpatterns = [path("", views.status, name="status")]
