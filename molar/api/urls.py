"""Mounts the routers on the one API object (served under /api/v1/)."""

from . import access, appointments, audit, invites, measures, patients, settings, sheets
from .base import api

api.add_router("", patients.router)
api.add_router("", access.router)
api.add_router("", settings.router)
api.add_router("", appointments.router)
api.add_router("", invites.router)
api.add_router("", measures.router)
api.add_router("", sheets.router)
api.add_router("", audit.router)
