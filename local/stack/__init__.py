"""``template.yaml`` read as data and provisioned on moto (in process or a moto server on loopback)."""
