"""The HTTP API (FastAPI) and the live dashboard page."""
