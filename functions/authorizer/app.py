"""Lambda REQUEST authorizer: ``Authorization: Bearer <api key>`` → the key's account."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from request_logs.config import require_settings
from request_logs.logic.authorize import Unauthorized, authorize

settings = require_settings("api_keys_table")
logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    try:
        return authorize(event)
    except Unauthorized:
        # Never log the header: it carries the key.
        logger.info("request not authorized", extra={"method_arn": event.get("methodArn")})
        raise
