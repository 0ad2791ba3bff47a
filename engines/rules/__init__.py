"""The rule engine: if-then rules compiled per app version (see metamodel/rules.py)."""
