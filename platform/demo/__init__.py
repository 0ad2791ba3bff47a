"""Demo data for an app: its recipe's plan written through the write pipeline."""

from loom.platform.demo.loader import (
    DemoRequest,
    DemoResult,
    load_demo,
    prepare_demo,
    write_demo,
)

__all__ = ["DemoRequest", "DemoResult", "load_demo", "prepare_demo", "write_demo"]
