"""The REST front end: FastAPI under /v1 on the application layer (control/app/operations.py)."""
