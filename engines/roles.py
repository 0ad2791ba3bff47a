"""Publish-time checks of roles: the entities and fields they name exist, and their record
conditions are sound conditions on that entity (the same checks a list filter gets)."""

from __future__ import annotations

from loom.engines.expressions import Scope, check_condition
from loom.metamodel.app import AppDocument
from loom.metamodel.entity import SYSTEM_FIELDS
from loom.metamodel.errors import Problem
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.roles import scope_items

register_messages({
    "role_unknown_entity": {"en": "there is no entity '{entity}' in this app",
                            "zh-CN": "本应用中没有实体“{entity}”"},
    "role_unknown_field": {"en": "{entity} has no field '{field}'",
                           "zh-CN": "{entity}没有字段“{field}”"},
})


def check_roles(doc: AppDocument) -> list[Problem]:
    problems: list[Problem] = []
    for role_name, role in doc.roles.items():
        for entity, grant in role.permissions.items():
            base = f"roles.{role_name}.permissions.{entity}"
            spec = doc.entities.get(entity)
            if spec is None:
                problems.append(Problem(base, message("role_unknown_entity", entity=entity)))
                continue
            for field in grant.fields:
                if field not in spec.fields and field not in SYSTEM_FIELDS:
                    problems.append(Problem(f"{base}.fields.{field}", message(
                        "role_unknown_field", entity=entity, field=field)))
            scope = Scope.for_entity(doc, entity)
            for operation in ("read", "update", "delete"):
                value = getattr(grant, operation)
                for index, condition in enumerate(scope_items(value)):
                    if not isinstance(condition, dict):
                        continue
                    where = f"{base}.{operation}" + (f"[{index}]" if isinstance(value, list)
                                                      else "")
                    for problem in check_condition(condition, scope):
                        at = f"{where} ({problem.field})" if problem.field else where
                        problems.append(Problem(at, problem.message, problem.code))
    return problems
