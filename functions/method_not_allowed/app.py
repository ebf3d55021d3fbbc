"""Any other method on the API's paths (the template routes ``ANY`` there): 405 with ``Allow``.

API Gateway answers a method a resource does not have like a path it does not have (its "Missing
Authentication Token", our 404 gateway response). A client that sends ``POST`` to a ``GET`` route learns
more from a 405 naming the methods it may use, in the one error shape. The route keeps the API's
authorizer and usage plan: only a caller with a key reaches this function.
"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.api.errors import method_not_allowed

logger = Logger()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return method_not_allowed(str(event.get("httpMethod", "")), str(event.get("resource", "")))
