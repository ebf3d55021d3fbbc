"""The reference handler the issue calibrates the cold-start budget with ("near 1.5").

The least a Powertools + pydantic handler that talks to DynamoDB loads: a Logger,
``APIGatewayRestResolver(enable_validation=True)``, one route returning a one-field model, and the
DynamoDB client (created, never called). No cold-start tuning. Serves the single-log event.
"""

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

logger = Logger()
app = APIGatewayRestResolver(enable_validation=True)


class Found(BaseModel):
    id: str


@app.get("/api/account/request-logs/<id>")
def get_log(id: str) -> Found:  # noqa: A002 - the route's path parameter
    boto3.client("dynamodb")
    return Found(id=id)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
