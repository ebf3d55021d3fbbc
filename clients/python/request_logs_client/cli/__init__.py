"""The ``rlogs`` command (``request_logs_client.cli.app``)."""

from request_logs_client.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
