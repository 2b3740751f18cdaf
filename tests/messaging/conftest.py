# The signed-in patient persona lives with the portal tests.
from tests.portal.conftest import credentials, patient_client  # noqa: F401
