"""Holding a recipe against the app it fills: every entity, field, step, user group and role
it names must exist, and every generator must fit its field's type. All problems at once,
each with its path in the recipe and a message in the reader's language."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from loom.engines.demo.specs import Recipe, Step
from loom.engines.expressions.compiled import compile_condition
from loom.metamodel.app import AppDocument
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import LoomError, MetadataInvalid, Problem
from loom.metamodel.fields import COMPUTED_TYPES, VIRTUAL_TYPES, FieldType
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.validation import format_path

T = FieldType
TEXTS = {T.TEXT, T.TEXTAREA, T.RICH_TEXT}
NUMBERS = {T.INTEGER, T.DECIMAL, T.CURRENCY, T.PERCENT, T.RATING}
FITS: dict[str, set[FieldType] | None] = {  # None: any type that can hold a value
    "person_name": TEXTS, "company_name": TEXTS, "city": TEXTS, "text": TEXTS | {T.URL},
    "mobile": {T.PHONE, T.TEXT}, "email": {T.EMAIL, T.TEXT},
    "choice": {T.SELECT, T.MULTISELECT, *TEXTS, *NUMBERS, T.BOOLEAN},
    "number": NUMBERS, "split": NUMBERS - {T.RATING},
    "date": {T.DATE}, "datetime": {T.DATETIME},
    "ref": {T.LOOKUP}, "parent": {T.LOOKUP}, "user": {T.USER},
    "user_emails": {T.JSON, T.MULTISELECT}, "boolean": {T.BOOLEAN}, "address": {T.ADDRESS},
    "copy": None, "const": None,
}

register_messages({
    "demo_recipe_invalid": {"en": "The demo data recipe has problems",
                            "zh-CN": "演示数据配方有误"},
    "demo_recipe_shape": {"en": "{problem}", "zh-CN": "格式不正确：{problem}"},
    "demo_no_entity": {"en": "There is no entity '{entity}' in this app",
                       "zh-CN": "本应用没有实体“{entity}”"},
    "demo_no_field": {"en": "Entity '{entity}' has no field '{field}'",
                      "zh-CN": "实体“{entity}”没有字段“{field}”"},
    "demo_computed": {"en": "'{field}' is computed by the platform; a recipe cannot fill it",
                      "zh-CN": "“{field}”由平台计算，配方不能填写"},
    "demo_misfit": {"en": "The generator '{gen}' does not fit a field of type '{type}' "
                          "(it fits: {fits})",
                    "zh-CN": "生成器“{gen}”不适用于类型为“{type}”的字段（适用于：{fits}）"},
    "demo_wrong_ref": {"en": "The field refers to '{ref}', not to '{entity}'",
                       "zh-CN": "该字段引用的是“{ref}”，不是“{entity}”"},
    "demo_no_parent": {"en": "'parent' needs a step with 'per'",
                       "zh-CN": "“parent”只能用于带有“per”的步骤"},
    "demo_no_step": {"en": "There is no earlier step '{step}'",
                     "zh-CN": "前面没有名为“{step}”的步骤"},
    "demo_step_twice": {"en": "The step name '{step}' is used twice",
                        "zh-CN": "步骤名“{step}”重复"},
    "demo_not_option": {"en": "'{value}' is not an option of this field (options: {options})",
                        "zh-CN": "“{value}”不是该字段的选项（选项：{options}）"},
    "demo_moment": {"en": "The moment must be a date or datetime field of '{entity}'",
                    "zh-CN": "时间点必须是“{entity}”的日期或日期时间字段"},
    "demo_no_group": {"en": "There is no user group '{group}' (before this one)",
                      "zh-CN": "没有（在此之前定义的）用户组“{group}”"},
    "demo_no_role": {"en": "There is no role '{role}' in this app",
                     "zh-CN": "本应用没有角色“{role}”"},
    "demo_unfilled": {"en": "'{field}' is required and has no default; the recipe must fill it",
                      "zh-CN": "“{field}”为必填且没有默认值，配方必须填写它"},
    "demo_condition": {"en": "The condition cannot be compiled: {reason}",
                       "zh-CN": "条件无法编译：{reason}"},
})


def parse_recipe(raw: Any, document: AppDocument) -> Recipe:
    """The recipe as models, checked against the app; refused with every problem."""
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as exc:
        raise MetadataInvalid(message("demo_recipe_invalid"), [
            Problem(format_path(err["loc"]), message("demo_recipe_shape", problem=err["msg"]))
            for err in exc.errors()]) from None
    problems = check_recipe(recipe, document)
    if problems:
        raise MetadataInvalid(message("demo_recipe_invalid"), problems)
    return recipe


def check_recipe(recipe: Recipe, document: AppDocument) -> list[Problem]:
    problems: list[Problem] = []
    groups: list[str] = []
    for i, group in enumerate(recipe.users.groups if recipe.users else []):
        where = f"users.groups[{i}]"
        if group.manager and group.manager not in groups:
            problems.append(Problem(f"{where}.manager", message("demo_no_group",
                                                                group=group.manager)))
        problems += [Problem(f"{where}.roles", message("demo_no_role", role=role))
                     for role in group.roles if role not in document.roles]
        groups.append(group.name)
    steps: dict[str, Step] = {}
    for i, step in enumerate(recipe.steps):
        where = f"steps[{i}]"
        if step.name in steps:
            problems.append(Problem(f"{where}.name", message("demo_step_twice", step=step.name)))
        if step.per is not None and step.per not in steps:
            problems.append(Problem(f"{where}.per", message("demo_no_step", step=step.per)))
        entity = document.entities.get(step.entity)
        if entity is None:
            problems.append(Problem(f"{where}.entity", message("demo_no_entity",
                                                               entity=step.entity)))
        else:
            parent = steps.get(step.per) if step.per else None
            parent_entity = document.entities.get(parent.entity) if parent else None
            problems += _check_step(step, entity, parent_entity, document, set(groups), where)
        steps[step.name] = step
    return problems


def _check_step(step: Step, entity: EntitySpec, parent: EntitySpec | None,
                document: AppDocument, groups: set[str], where: str) -> list[Problem]:
    problems = _conditions(step.where, f"{where}.where")
    if isinstance(step.moment, str) and (step.moment not in entity.fields or entity.fields[
            step.moment].type not in (T.DATE, T.DATETIME)):
        problems.append(Problem(f"{where}.moment", message("demo_moment", entity=step.entity)))
    for name, spec in step.fields.items():
        path = f"{where}.fields.{name}"
        field = entity.fields.get(name)
        if field is None:
            problems.append(Problem(path, message("demo_no_field", entity=step.entity,
                                                  field=name)))
            continue
        if field.type in COMPUTED_TYPES | VIRTUAL_TYPES:
            problems.append(Problem(path, message("demo_computed", field=name)))
            continue
        fits = FITS[spec.gen]
        if fits is not None and field.type not in fits:
            problems.append(Problem(f"{path}.gen", message(
                "demo_misfit", gen=spec.gen, type=field.type.value,
                fits=", ".join(sorted(t.value for t in fits)))))
            continue
        problems += _conditions(spec.when, f"{path}.when")
        problems += _references(spec, entity, parent, step, path)
        problems += _specifics(spec, field, step, parent, document, groups, path)
    if not step.existing:
        for name, field in entity.fields.items():
            if field.required and field.default is None and name not in step.fields \
                    and field.type not in COMPUTED_TYPES:
                problems.append(Problem(f"{where}.fields", message("demo_unfilled",
                                                                   field=name)))
    return problems


def _references(spec: Any, entity: EntitySpec, parent: EntitySpec | None, step: Step,
                path: str) -> list[Problem]:
    """Every ``field`` / ``parent.field`` a generator reads must exist."""
    problems = []
    names = [getattr(spec, key, None) for key in ("region", "industry", "person", "company",
                                                  "after", "by", "source", "of")]
    names += list(getattr(spec, "match", {}).values())
    for reference in filter(None, names):
        if reference == "as_of" or (reference == "moment" and (step.moment or step.per)
                                        is not None):
            continue
        if reference.startswith("parent."):
            if parent is None:
                problems.append(Problem(path, message("demo_no_parent")))
            elif reference.removeprefix("parent.") not in parent.fields:
                problems.append(Problem(path, message("demo_no_field", entity=step.per,
                                                      field=reference.removeprefix("parent."))))
        elif reference not in entity.fields:
            problems.append(Problem(path, message("demo_no_field", entity=step.entity,
                                                  field=reference)))
    return problems


def _specifics(spec: Any, field: Any, step: Step, parent: EntitySpec | None,
               document: AppDocument, groups: set[str], path: str) -> list[Problem]:
    problems: list[Problem] = []
    if spec.gen == "ref":
        if spec.entity not in document.entities:
            problems.append(Problem(f"{path}.entity", message("demo_no_entity",
                                                              entity=spec.entity)))
        elif field.ref != spec.entity:
            problems.append(Problem(f"{path}.entity", message("demo_wrong_ref", ref=field.ref,
                                                              entity=spec.entity)))
        else:
            target = document.entities[spec.entity]
            problems += [Problem(f"{path}.match", message("demo_no_field", entity=spec.entity,
                                                          field=theirs))
                         for theirs in spec.match if theirs not in target.fields]
        problems += _conditions(spec.where, f"{path}.where")
    elif spec.gen == "parent":
        if step.per is None or parent is None:
            problems.append(Problem(path, message("demo_no_parent")))
        elif document.entities.get(field.ref) is not parent:
            problems.append(Problem(path, message("demo_wrong_ref", ref=field.ref,
                                                  entity=_entity_name(document, parent))))
    elif spec.gen in ("user", "user_emails"):
        wanted = list(spec.groups) + [g for gs in (spec.cases or {}).values() for g in gs]
        problems += [Problem(f"{path}.groups", message("demo_no_group", group=group))
                     for group in wanted if group not in groups]
    elif spec.gen == "choice" and field.type in (T.SELECT, T.MULTISELECT):
        allowed = field.option_values()
        offered = list(spec.options or []) + [v for case in (spec.cases or {}).values()
                                              for v in case]
        problems += [Problem(f"{path}.options", message(
            "demo_not_option", value=value, options=", ".join(allowed)))
            for value in dict.fromkeys(offered) if value not in allowed]
    return problems


def _entity_name(document: AppDocument, spec: EntitySpec) -> str:
    return next((name for name, entity in document.entities.items() if entity is spec), "?")


def _conditions(rule: Any, path: str) -> list[Problem]:
    if rule is None:
        return []
    try:
        compile_condition(rule)
    except LoomError as exc:
        return [Problem(path, message("demo_condition", reason=exc.render_detail("en")))]
    except (TypeError, ValueError) as exc:
        return [Problem(path, message("demo_condition", reason=str(exc)))]
    return []
