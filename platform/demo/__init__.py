"""Demo data for an app: its recipe's plan written through the write pipeline."""

from loom.platform.demo.loader import DemoResult, load_demo

__all__ = ["DemoResult", "load_demo"]
