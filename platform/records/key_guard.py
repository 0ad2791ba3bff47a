"""The write pipeline's guard of the values metadata names records by: a team's code that a
routing rule looks up may not change while the rule names it — the rule would stop
finding the team, and every lead it routes would be refused. (Deleting such a record is
refused by the delete's plan, ``removal.py``.)"""

from __future__ import annotations

from loom.metamodel.errors import ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.platform.records.context import WriteContext
from loom.platform.records.removal import named_problem

register_messages({
    "key_renamed": {
        "en": "{field} cannot change from {value}: {kind} “{label}” ({name}) finds the "
              "{entity} by it. Change that first",
        "zh-CN": "{field}不能从 {value} 改为其他值：{kind}“{label}”（{name}）按它查找{entity}，"
                 "请先修改{kind}",
    },
})


class KeyGuard:
    """Plugged in after the rules, so it sees the values the save will write."""

    async def before_save(self, ctx: WriteContext) -> None:
        if ctx.operation != "update" or ctx.old is None:
            return
        changed = ctx.changed()
        problems = [named_problem(ctx.runtime, ref, "key_renamed")
                    for name, refs in ctx.runtime.keys.fields(ctx.entity).items()
                    if name in changed for ref in refs
                    if ctx.old.get(name) is not None and ref.value == ctx.old.get(name)]
        if problems:
            raise ValidationFailed(message("validation_failed", count=len(problems)), problems)

    async def after_save(self, ctx: WriteContext) -> None:
        return None
