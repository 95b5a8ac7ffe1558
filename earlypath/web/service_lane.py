"""The service's FastAPI app, with a short way in for CDS service calls (issue 16).

A CDS service call (``POST /cds-services/{id}`` of a known service) enters the app's own
middlewares (security headers, the auth-off loopback rule, request limits, CORS, QuietErrors,
`cds.ServiceCalls`) directly: the very same middleware objects every other request passes
through, in the same order. What it skips is FastAPI's and Starlette's outer layers, which
the service does not use on that route: the per-request check for OpenTelemetry (four
environment reads a call), Starlette's ServerErrorMiddleware (QuietErrors inside already turns
any error into a bare 500), the exception-telemetry wrapper and FastAPI's own body limit (off:
`RequestLimits` bounds the body). Together about 4% of a call's instructions. Where the
middlewares are the app's usual ones, the lane enters them fused into one layer
(`earlypath.web.cds_lane`): the same objects' work, in one frame and one `send` wrapper.

The lane is not opened when FastAPI's native telemetry is configured when the app is built
(every request then goes through FastAPI's stack, traced), nor when FastAPI's stack does not
hold the app's first middleware as expected (another FastAPI version): then nothing changes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from earlypath.web.cds import is_service_call
from earlypath.web.cds_lane import fuse


class ServiceLaneApp(FastAPI):
    """FastAPI, with CDS service calls handed straight to the app's own middlewares."""

    cds_lane: Any = None  # the app's own middlewares (fused, or the outermost), once open

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        lane = self.cds_lane
        if lane is not None and is_service_call(scope):
            scope["app"] = self  # as Starlette sets it: handlers read `request.app.state`
            await lane(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def open_cds_lane(self) -> bool:
        """Open the lane, after every middleware and exception handler is added (it builds the
        middleware stack now, as the first request would: Starlette refuses a middleware added
        after that); True if it is open."""
        telemetry = getattr(self, "_native_telemetry", None)
        if telemetry is None or telemetry.enabled() or self.root_path:
            return False  # traced (or a FastAPI we do not know): every request as before
        if not self.user_middleware:
            return False
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        outermost = self.user_middleware[0].cls
        layer: Any = self.middleware_stack
        while layer is not None:
            if type(layer) is outermost:
                # the stack's layers as one where it is the usual stack (`cds_lane.fuse`)
                self.cds_lane = fuse(layer) or layer
                return True
            layer = getattr(layer, "app", None)
        return False
