"""TOTP (RFC 6238) as authenticator apps use it: SHA-1, 6 digits, 30-second
steps. One step either side is accepted for clock drift, and each step at
most once (the account keeps the last step used)."""

import base64
import secrets
import time

import pyotp
from django.http import HttpRequest

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1


def totp_new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")  # 160 bits (RFC 4226)


def totp_enrolling_secret(request: HttpRequest, session_key: str) -> str:
    """The secret being added, for staff and patients alike: kept in the
    session from the page that shows its QR code to the POST that confirms a
    code from it (never in the page's form); showing the page starts anew."""
    secret = request.session.get(session_key) if request.method == "POST" else None
    if not secret:
        secret = request.session[session_key] = totp_new_secret()
    return secret


def totp_uri(secret: str, *, account_name: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer or "Molar")


def totp_matching_step(secret: str, code: str, *, after: int | None, now: float | None = None) -> int | None:
    """The time step `code` belongs to (within the drift), or None. A step not
    later than `after` (already used) never matches."""
    code = "".join((code or "").split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_qr_data_uri(uri: str) -> str:
    """The otpauth:// URI as an SVG QR code, for an <img> (CSP allows data: images)."""
    import base64 as b64

    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(uri, barBorder=4)  # the quiet zone the QR standard asks for
    x0, y0, x1, y1 = widget.getBounds()
    size = 180
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    # crispEdges: no hairline seams between modules when the browser scales it.
    svg = renderSVG.drawToString(drawing).replace("<svg ", '<svg shape-rendering="crispEdges" ', 1)
    return "data:image/svg+xml;base64," + b64.b64encode(svg.encode()).decode("ascii")
