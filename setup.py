"""Package discovery for the folder-to-`loom.*` mapping declared in pyproject.toml."""

from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOTS = ["platform", "metamodel", "engines", "renderers", "starter_templates", "migrations"]
HERE = Path(__file__).parent


def _packages() -> list[str]:
    found = []
    for root in ROOTS:
        found.append(f"loom.{root}")
        found += [f"loom.{root}.{sub}" for sub in find_namespace_packages(str(HERE / root))
                  if "__pycache__" not in sub and "node_modules" not in sub]
    return found


setup(
    packages=_packages(),
    package_data={"": ["*.json", "*.html", "*.mako", "*.ini", "*.js", "*.css", "*.txt"]},
)
