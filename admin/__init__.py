"""Admin CLI: accounts and API keys, against the local stack or a deployed one."""
