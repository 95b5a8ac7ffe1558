"""The earlypath web service: `create_app()` builds the FastAPI application.

Pages (/ and /check), JSON API (/api/assess, /api/schema, /openapi.json) and CDS Hooks 2.0
(/cds-services). No clinical logic here: every answer comes from `earlypath.assess`.
"""

from earlypath.web.app import create_app

__all__ = ["create_app"]
