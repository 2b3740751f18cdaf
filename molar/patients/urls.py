from django.urls import path

from . import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_new, name="new"),
    path("import/", views.patient_import, name="import"),
    path("import/preview/", views.patient_import_preview, name="import_preview"),
    path("import/run/", views.patient_import_run, name="import_run"),
    path("import/cancel/", views.patient_import_cancel, name="import_cancel"),
    path("<int:pk>/", views.patient_chart, name="chart"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/appointments/new/", views.appointment_edit, name="appointment_new"),
    path("<int:pk>/appointments/<int:appointment_id>/", views.appointment_edit, name="appointment_edit"),
]
