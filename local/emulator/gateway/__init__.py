"""API Gateway REST emulated for the template's routes: ``core`` answers one request in API Gateway's
order (routing, authorizer, usage plan, proxy integration), ``http_server`` serves it on loopback, and
each concern of theirs has its own module (``routing``, ``policy``, ``authorizer_cache``, ``throttle``,
``responses``)."""

from local.emulator.gateway.core import LocalApiGateway
from local.emulator.gateway.http_server import GatewayServer
from local.emulator.gateway.responses import GatewayResponses
from local.emulator.gateway.routing import match_route
from local.emulator.gateway.throttle import UsagePlanThrottle

__all__ = ["GatewayResponses", "GatewayServer", "LocalApiGateway", "UsagePlanThrottle", "match_route"]
