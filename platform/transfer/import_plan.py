"""What an import's header row means: which column sets which field, which lookup column
finds its records by which field (``customer.code``), and how rows match existing records
on an upsert. Settled before any row is read; a bad header refuses the whole file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.errors import BadRequest, PermissionDenied, Problem, ValidationFailed
from loom.metamodel.fields import REFERENCE_TYPES, FieldType
from loom.metamodel.i18n import did_you_mean, message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.security.permissions import Access
from loom.platform.transfer.columns import Column, match_header

Mode = Literal["create", "upsert"]
KEY_TYPES_REFUSED = REFERENCE_TYPES | {FieldType.MULTISELECT, FieldType.BOOLEAN}

register_messages({
    "import_header_problems": {"en": "The header row has {count} problem(s)",
                               "zh-CN": "表头有 {count} 处问题"},
    "import_unknown_column": {
        "en": "Column '{header}' is not a field of {entity}{hint_en}",
        "zh-CN": "列“{header}”不是{entity}的字段{hint_zh}",
    },
    "import_duplicate_column": {"en": "Columns '{first}' and '{second}' both set {label}",
                                "zh-CN": "列“{first}”和“{second}”都对应{label}"},
    "import_subtable_column": {
        "en": "Column '{header}': line items ({label}) are imported as {child} records",
        "zh-CN": "列“{header}”：明细行（{label}）请作为{child}记录导入",
    },
    "import_no_key_column": {
        "en": "An upsert matches records by '{name}', but the file has no such column",
        "zh-CN": "按“{name}”匹配记录进行更新，但文件中没有该列",
    },
    "import_bad_key": {
        "en": "'{name}' cannot match records: use id or a unique field of {entity}",
        "zh-CN": "“{name}”无法用于匹配记录：请使用 id 或{entity}的唯一字段",
    },
    "import_key_needs_upsert": {"en": "key is only used with mode=upsert",
                                "zh-CN": "key 仅在 mode=upsert 时使用"},
    "import_unreadable_target": {
        "en": "Column '{header}': you may not read {target} records, so they cannot be "
              "found by {via}; give their ids (column {field})",
        "zh-CN": "列“{header}”：您无权查看{target}记录，无法按{via}查找，请改用 id（列 {field}）",
    },
})


@dataclass(frozen=True)
class ImportOptions:
    mode: Mode = "create"
    key: str | None = None
    dry_run: bool = False
    all_or_nothing: bool = False
    batch_size: int = 500

    def match_key(self) -> str | None:
        """The field rows are matched on (upsert; id unless another is named)."""
        if self.mode == "create":
            if self.key is not None:
                raise BadRequest(message("import_key_needs_upsert"))
            return None
        return self.key or "id"


@dataclass
class ImportPlan:
    """The columns that set fields (position in the row → column), their headers, the
    match key, and for each lookup found through a field the reader's access there."""

    entity: str
    columns: list[tuple[int, Column]]
    headers: dict[str, str]
    key: str | None
    key_position: int | None
    targets: dict[str, Access] = field(default_factory=dict)

    def header_of(self, name: str | None) -> str | None:
        return self.headers.get(name) if name else None


def plan_import(runtime: AppRuntime, entity: str, headers: list[str], options: ImportOptions,
                target_access: dict[str, Access | PermissionDenied]) -> ImportPlan:
    """Read the header row; every problem with it at once (422), or the plan.
    ``target_access``: the reader's read access to each entity a lookup points at."""
    spec = runtime.entity(entity)
    key = options.match_key()
    problems: list[Problem] = []
    if key is not None and key != "id" and not _is_key(spec, key):
        raise BadRequest(message("import_bad_key", name=key, entity=spec.label))
    columns: list[tuple[int, Column]] = []
    seen: dict[str, str] = {}
    key_position = None
    targets: dict[str, Access] = {}
    for position, text in enumerate(headers):
        if not text:
            continue
        column = match_header(runtime, entity, text)
        if column is None:
            problems.append(_unknown(spec, text))
            continue
        if column.field == key:
            key_position = position
        if column.field in SYSTEM_FIELDS:
            continue  # written by the platform; ``id`` only matches records
        spec_field = spec.fields[column.field]
        if spec_field.type is FieldType.SUBTABLE:
            problems.append(Problem(text, message(
                "import_subtable_column", header=text, label=spec.field_label(column.field),
                child=spec_field.entity), code="subtable"))
            continue
        if column.field in seen:
            problems.append(Problem(text, message(
                "import_duplicate_column", first=seen[column.field], second=text,
                label=spec.field_label(column.field)), code="duplicate_column"))
            continue
        if column.via:
            problem = _target_problem(runtime, spec, column, text, target_access)
            if problem is not None:
                problems.append(problem)
                continue
            access = target_access[spec_field.ref or ""]
            assert isinstance(access, Access)
            targets[column.field] = access
        seen[column.field] = text
        columns.append((position, column))
    if key is not None and key_position is None:
        problems.append(Problem(key, message("import_no_key_column", name=key),
                                code="no_key_column"))
    if problems:
        raise ValidationFailed(message("import_header_problems", count=len(problems)),
                               problems)
    return ImportPlan(entity, columns, dict(seen), key, key_position, targets)


def _is_key(spec: EntitySpec, name: str) -> bool:
    field = spec.stored_fields().get(name)
    return field is not None and (field.unique or field.type is FieldType.SERIAL) and \
        field.storage_type() not in KEY_TYPES_REFUSED


def _unknown(spec: EntitySpec, text: str) -> Problem:
    hint_en, hint_zh = did_you_mean(text, spec.fields)
    return Problem(text, message("import_unknown_column", header=text, entity=spec.label,
                                 hint_en=hint_en, hint_zh=hint_zh), code="unknown_column")


def _target_problem(runtime: AppRuntime, spec: EntitySpec, column: Column, text: str,
                    target_access: dict[str, Any]) -> Problem | None:
    target = spec.fields[column.field].ref or ""
    access = target_access.get(target)
    target_spec = runtime.entity(target)
    if isinstance(access, PermissionDenied) or access is None or \
            not access.can_read(column.via or ""):
        return Problem(text, message(
            "import_unreadable_target", header=text, target=target_spec.label,
            via=target_spec.field_label(column.via or ""), field=column.field),
            code="denied")
    return None
