"""HTTP routes, one module per area. Routers parse, authorize and render; no SQL here."""
