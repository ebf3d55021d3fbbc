"""Demo data: realistic gateway messages, demo accounts and their traffic, and the fixtures of ``events/``."""
