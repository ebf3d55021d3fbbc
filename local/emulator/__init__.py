"""What behaves like AWS around the functions: the Lambda runtime, API Gateway REST and the event sources."""
