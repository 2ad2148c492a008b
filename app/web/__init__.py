"""The web layer: the app factory, request plumbing (dependencies, guards, the gate,
rendering, limits) and the routes. Nothing outside this package imports FastAPI or Starlette."""
