from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import include, path
from django.views.decorators.debug import sensitive_post_parameters

from molar.api.urls import api
from molar.ops.views import readyz
from molar.practice.outbox import outbox


def healthz(request):
    """A minimal page: the baseline the benchmarks compare real pages against."""
    return HttpResponse("ok", content_type="text/plain")


staff_login = sensitive_post_parameters("password")(
    auth_views.LoginView.as_view(redirect_authenticated_user=True)
)

urlpatterns = [
    path("", lambda request: redirect("patients:list")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("staff/login/", staff_login, name="login"),
    path("staff/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("staff/patients/", include("molar.patients.urls")),
    path("staff/patients/<int:pk>/portal-access/", include("molar.access.urls")),
    path("staff/settings/", include("molar.practice.urls")),
    path("staff/outbox/", outbox, name="outbox"),
    path("staff/", include("molar.sheets.urls")),
    path("staff/", include("molar.records.urls")),
    path("staff/invites/", include("molar.invites.urls")),
    path("staff/dashboard/", include("molar.ehr.urls")),
    path("staff/audit/", include("molar.audit.urls")),
    path("staff/messages/", include("molar.messaging.urls")),
    path("staff/opendental/", include("molar.opendental.urls")),
    path("portal/", include("molar.portal.urls")),
    path("api/v1/", api.urls),
]

handler404 = "molar.portal.views.page_not_found"
handler500 = "molar.ops.views.server_error"
