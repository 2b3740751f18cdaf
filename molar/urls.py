from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import include, path
from django.views.i18n import set_language

from molar.api.urls import api
from molar.ops.views import readyz
from molar.outbox.views import outbox
from molar.session_activity import keepalive
from molar.staffauth import views as staffauth


def healthz(request):
    """A minimal page: the baseline the benchmarks compare real pages against."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", lambda request: redirect("patients:list")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # First after the probes: patients' pages are the busiest (SPEC Q1), and
    # each pattern above a page is one more tried for each of its requests.
    path("portal/", include("molar.portal.urls")),
    path("session/keepalive", keepalive, name="keepalive"),
    path("portal/language/", set_language, name="set_language"),
    path("staff/login/", staffauth.sign_in, name="login"),
    path("staff/logout/", staffauth.sign_out, name="logout"),
    path("staff/", include("molar.staffauth.urls")),
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
    path("api/v1/", api.urls),
]

handler404 = "molar.portal.views.page_not_found"
handler500 = "molar.ops.views.server_error"
