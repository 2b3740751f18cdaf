from django.urls import path

from . import views

app_name = "invites"
urlpatterns = [
    path("", views.invite_list, name="list"),
    path("rules/", views.rule_list, name="rules"),
    path("bulk/", views.bulk, name="bulk"),
    path("bulk/<int:pk>/", views.bulk_run, name="bulk_run"),
    path("bulk/letters/<str:token>/", views.bulk_letters, name="bulk_letters"),
    path("bulk/letters/<str:token>/pdf", views.bulk_letters_pdf, name="bulk_letters_pdf"),
    path("rules/add/<str:timing>/", views.rule_add, name="rule_add"),
    path("rules/<int:pk>/", views.rule_edit, name="rule"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
