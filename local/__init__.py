"""Docker-free local runtime of ``template.yaml``, by role.

- ``stack/``: the template as data (``template``), provisioned on moto (``provision``, ``moto_server``
  running ``moto_main``), moto's Query reading one partition (``partitioned_queries``), the DynamoDB
  limits moto does not enforce (``dynamodb_limits``), and the state file that tells other commands where
  a running ``make run`` is (``state``);
- ``emulator/``: what behaves like AWS: the Lambda runtime (``lambda_runtime``; each function's own log
  keys, ``function_logs``), the events it receives (``events``), API Gateway REST (``gateway/``) and the
  SQS and DynamoDB-stream event sources (``sqs_poller``, ``stream_poller``, ``stream_reader``);
- ``demo/``: demo data: realistic gateway messages, demo accounts and traffic, the world ``events/`` describes;
- entry points: ``run`` (``make run``), ``invoke`` (``make invoke``), ``openapi`` (``make openapi``).
"""
