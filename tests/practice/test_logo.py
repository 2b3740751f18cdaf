"""SPEC V3: the practice's logo (PNG or JPEG, checked by content, size-limited)
on the sign-in page and every portal page, served through a view."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from molar.audit.models import AuditEvent
from molar.practice.models import PracticeSettings
from tests.conftest import CsrfClient


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def image(kind: str, size=(120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (11, 92, 173)).save(out, kind)
    return out.getvalue()


def upload(client, data: bytes, name="logo.png", content_type="image/png"):
    return client.submit(
        "/staff/settings/", {"form": "logo", "logo": SimpleUploadedFile(name, data, content_type)}
    )


@pytest.mark.parametrize("kind, content_type", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_logo_shows_on_the_sign_in_page_and_is_served_by_a_view(admin_client, practice, kind, content_type):
    assert upload(admin_client, image(kind)).status_code == 302
    page = CsrfClient().get("/portal/").content.decode()
    assert 'src="/portal/logo?v=' in page
    served = CsrfClient().get("/portal/logo")
    assert served.status_code == 200 and served["Content-Type"] == content_type
    assert b"".join(served.streaming_content) == image(kind)
    assert AuditEvent.objects.filter(action="settings_changed", detail__fields=["logo"]).exists()


@pytest.mark.parametrize(
    "data, name",
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "logo.png"),  # not what its name says
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "logo.gif"),
        (image("GIF"), "logo.png"),
    ],
)
def test_only_png_or_jpeg_content_is_accepted(admin_client, practice, data, name):
    page = upload(admin_client, data, name=name).content.decode()
    assert "The logo must be a PNG or JPEG image." in page
    assert not PracticeSettings.load().logo


def test_large_logos_are_refused(admin_client, practice):
    big = image("PNG") + b"\x00" * (600 * 1024)  # a valid PNG, padded past 512 KB
    assert "at most 512 KB" in upload(admin_client, big).content.decode()
    assert "at most 2000 pixels" in upload(admin_client, image("PNG", (2500, 10))).content.decode()


def test_removing_the_logo(admin_client, practice):
    upload(admin_client, image("PNG"))
    assert admin_client.submit("/staff/settings/", {"form": "logo", "remove": "1"}).status_code == 302
    assert CsrfClient().get("/portal/logo").status_code == 404
    assert 'src="/portal/logo' not in CsrfClient().get("/portal/").content.decode()


def test_front_desk_cannot_change_the_logo(desk_client, practice):
    assert upload(desk_client, image("PNG")).status_code == 403
