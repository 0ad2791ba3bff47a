"""Demo data: a template's recipe (``demo/recipe.json``) turned into realistic, reproducible
records and users — the pure part (decide what to make); ``loom.platform.demo`` writes it."""

from loom.engines.demo.plan import DemoPlan, DemoRecord, DemoUser, make_plan, make_users
from loom.engines.demo.recipe_checks import check_recipe, parse_recipe
from loom.engines.demo.specs import SIZES, Recipe
from loom.engines.demo.values import Ref

__all__ = ["SIZES", "DemoPlan", "DemoRecord", "DemoUser", "Recipe", "Ref", "check_recipe",
           "make_plan", "make_users", "parse_recipe"]
