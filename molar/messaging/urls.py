from django.urls import path

from . import views

# Mounted under /staff/messages/.
app_name = "messaging"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:thread_id>/", views.thread, name="thread"),
    path("<int:thread_id>/status/", views.thread_status, name="thread_status"),
]
