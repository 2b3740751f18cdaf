from django.urls import path

from . import views

app_name = "access"
urlpatterns = [
    path("", views.access_page, name="page"),
    path("provide/", views.provide, name="provide"),
    path("remove/", views.remove, name="remove"),
    path("generate/", views.generate, name="generate"),
    path("password/", views.set_password, name="set_password"),
    path("username/", views.rename, name="rename"),
    path("print/", views.printout, name="print"),
    path("second-factors/clear/", views.clear_factors, name="clear_factors"),
]
