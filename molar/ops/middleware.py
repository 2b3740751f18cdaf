import logging

from molar.transient import is_transient

from .views import unavailable

logger = logging.getLogger(__name__)


class TransientDatabaseErrorMiddleware:
    """SPEC Q4: a view that hit a transient database error (its transaction
    already rolled back) answers 503 "try again" instead of 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_transient(exception):
            return None
        logger.warning(
            "503 for %s: database unavailable (%s: %s)",
            request.path,
            type(exception).__name__,
            str(exception).strip().splitlines()[0][:200] if str(exception).strip() else "",
        )
        return unavailable(request)
