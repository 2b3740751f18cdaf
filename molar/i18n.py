"""Languages (SPEC V10): the portal, its emails and its letters in English
and Spanish; staff pages stay in English.

The portal's language: the switch on the sign-in page (Django's language
cookie), else the patient's preferred language once signed in, else the
browser's Accept-Language. Emails and letters follow the patient's
preferred language."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

PORTAL_PREFIXES = ("/portal/",)


def patient_language(patient) -> str:
    """The patient's preferred language as a supported code ("es"), or "" when
    unknown. `Patient.language` (ISO 639-1, blank = unknown) is filled by the
    Open Dental sync and on the patient pages; None (no patient) is "" too."""
    code = (getattr(patient, "language", "") or "").strip().lower()[:2]
    return code if code in dict(settings.LANGUAGES) else ""


def language_for(patient) -> str:
    """What to write to this patient in (emails, letters): their preferred
    language, else the language of the page that asked (the portal page a
    patient used; English for staff pages, the worker and the CLI)."""
    return patient_language(patient) or translation.get_language() or settings.LANGUAGE_CODE


class PortalLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware for portal addresses only: a Spanish
    browser gets the portal in Spanish but the staff pages and the API in
    English (their text is not translated; mixing would be worse)."""

    def process_request(self, request):
        if request.path.startswith(PORTAL_PREFIXES):
            return super().process_request(request)
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return None

    def process_response(self, request, response):
        if request.path.startswith(PORTAL_PREFIXES):
            return super().process_response(request, response)
        return response
