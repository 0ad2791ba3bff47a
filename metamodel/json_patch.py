"""JSON Patch (RFC 6902): a list of operations on a draft — add one field, one option, one
flow edge (``{"op": "add", "path": "/flows/approval/edges/-", "value": {…}}``) without
sending the rest of the list, as a merge patch would have to.

Applied with ``jsonpatch`` (the maintained implementation of the RFC, with
``jsonpointer``), one operation after the other, so that a failure names the operation
that failed; all or nothing, as the RFC asks.
"""

from __future__ import annotations

import copy
from typing import Any, NoReturn

import jsonpatch
import jsonpointer

from loom.metamodel.errors import Problem, ValidationFailed
from loom.metamodel.i18n import Message, message, register_messages
from loom.metamodel.paths import format_path

OPERATIONS = ("add", "remove", "replace", "move", "copy", "test")
NEEDS = {"add": "value", "replace": "value", "test": "value", "move": "from", "copy": "from"}

register_messages({
    "patch_invalid": {"en": "The JSON Patch cannot be applied to the draft",
                      "zh-CN": "JSON Patch 无法应用到草稿"},
    "patch_not_list": {
        "en": "A JSON Patch is a list of operations, e.g. [{{\"op\": \"add\", \"path\": "
              "\"/entities/lead/fields/phone\", \"value\": {{\"type\": \"phone\"}}}}]",
        "zh-CN": "JSON Patch 应为操作列表，例如 [{{\"op\": \"add\", \"path\": "
                 "\"/entities/lead/fields/phone\", \"value\": {{\"type\": \"phone\"}}}}]"},
    "patch_not_operation": {
        "en": "operation {index} needs 'op' (add, remove, replace, move, copy or test) and "
              "'path'",
        "zh-CN": "第 {index} 个操作需要 op（add、remove、replace、move、copy 或 test）和 path"},
    "patch_needs": {"en": "operation {index} ({op}) needs '{member}'",
                    "zh-CN": "第 {index} 个操作（{op}）需要“{member}”"},
    "patch_bad_pointer": {
        "en": "operation {index}: '{pointer}' is not a JSON Pointer (it starts with / and "
              "writes ~ and / inside a name as ~0 and ~1)",
        "zh-CN": "第 {index} 个操作：“{pointer}”不是 JSON Pointer（以 / 开头，名称中的 ~ 和 / "
                 "写作 ~0 和 ~1）"},
    "patch_cannot_apply": {
        "en": "operation {index} ({op} {path}) cannot be applied: the draft has no place "
              "there (a missing key, a list position out of range, or a value inside text)",
        "zh-CN": "第 {index} 个操作（{op} {path}）无法应用：草稿中没有这个位置"
                 "（键不存在、列表位置越界，或位于文本内部）"},
    "patch_test_failed": {
        "en": "operation {index} (test {path}): the draft holds another value there",
        "zh-CN": "第 {index} 个操作（test {path}）：草稿中该位置的值与测试值不同"},
})


def apply_json_patch(document: Any, operations: Any) -> Any:
    """``document`` with ``operations`` applied (the input is not modified). Refused with
    ValidationFailed naming the first operation that fails (its index and path)."""
    if not isinstance(operations, list):
        _refuse(None, message("patch_not_list"))
    result = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        _check_shape(index, operation)
        try:
            result = jsonpatch.apply_patch(result, [operation], in_place=True)
        except jsonpatch.JsonPatchTestFailed:
            _refuse([index, "path"], message("patch_test_failed", index=index,
                                             path=operation["path"]))
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, KeyError,
                IndexError, TypeError, ValueError):
            _refuse([index, "path"], message("patch_cannot_apply", index=index,
                                             op=operation["op"], path=operation["path"]))
    return result


def _check_shape(index: int, operation: Any) -> None:
    if not isinstance(operation, dict) or operation.get("op") not in OPERATIONS \
            or not isinstance(operation.get("path"), str):
        _refuse([index], message("patch_not_operation", index=index))
    op = operation["op"]
    member = NEEDS.get(op)
    if member is not None and member not in operation:
        _refuse([index, member], message("patch_needs", index=index, op=op, member=member))
    for key in ("path", "from"):
        pointer = operation.get(key)
        if key == "from" and member != "from":
            continue
        if not isinstance(pointer, str) or not _is_pointer(pointer):
            _refuse([index, key], message("patch_bad_pointer", index=index,
                                          pointer=pointer))


def _is_pointer(text: str) -> bool:
    try:
        jsonpointer.JsonPointer(text)
    except jsonpointer.JsonPointerException:
        return False
    return True


def _refuse(where: list[Any] | None, text: Message) -> NoReturn:
    field = format_path(where) if where else None
    raise ValidationFailed(message("patch_invalid"), [Problem(field, text, code="json_patch")])
