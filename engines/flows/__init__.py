"""The flow engine: approval and process flows (see metamodel/flows.py)."""
