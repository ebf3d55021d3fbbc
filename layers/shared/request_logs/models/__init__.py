"""The API's models, usable without the REST layer: what a gateway sends (``messages``), what each
endpoint answers (``logs``, ``stats``), and how money crosses JSON exactly (``exact_json``)."""
