"""Docker-free local runtime: template loader, moto provisioning, gateway, pollers, invoke, demo data."""
