"""The WSGI application `molar serve` runs (granian, one per worker process).

Everything loaded at start-up (Django, every view and URL pattern, the
templates' machinery) lives as long as the process. `gc.freeze()` takes it
out of the cycle collector's reach, so the full collections that come every
few seconds under load scan only what requests leave behind. A full
collection stops every thread of the process: about 50 ms with the
start-up objects in it, under 4 ms without (SPEC Q1: tail latency)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "molar.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 -- imports every view now, not at the first request
gc.freeze()
