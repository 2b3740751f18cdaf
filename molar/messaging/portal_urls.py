from django.urls import path

from . import portal_views

# Included by molar/portal/urls.py without a namespace of its own, so the
# names are `portal:messages` (the tab, SPEC L7) and `portal:message_thread`.
urlpatterns = [
    path("messages/", portal_views.message_list, name="messages"),
    path("messages/<int:pk>/", portal_views.message_thread, name="message_thread"),
]
