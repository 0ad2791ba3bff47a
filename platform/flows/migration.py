"""Moving a running instance to another published version of its flow, by an
administrator, with an explicit mapping of the nodes it waits at. Refused when a node the
instance has started would mean something else in the new version — the people already
asked to act must be asked the same thing — or when a join still waits for paths."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from loom.metamodel.errors import Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.flows import store
from loom.platform.flows.instance import Instance
from loom.platform.storage.system_tables import flow_activations, flow_instances

register_messages({
    "flow_migrate_refused": {"en": "The instance cannot move to version {version}",
                             "zh-CN": "该流程实例不能迁移到版本 {version}"},
    "flow_migrate_no_flow": {"en": "version {version} has no flow '{name}'",
                             "zh-CN": "版本 {version} 中没有流程“{name}”"},
    "flow_migrate_no_node": {
        "en": "node '{node}' (mapped to '{target}') is not in version {version}",
        "zh-CN": "节点“{node}”（映射为“{target}”）不在版本 {version} 中"},
    "flow_migrate_changed": {
        "en": "node '{node}' has started and would change ({target} in version {version} "
              "differs)",
        "zh-CN": "节点“{node}”已开始，迁移后其定义会改变（版本 {version} 的“{target}”不同）"},
    "flow_migrate_joins": {"en": "a join still waits for parallel paths",
                           "zh-CN": "仍有汇聚节点在等待并行分支"},
})


def _shape(node: Any) -> dict[str, Any]:
    return node.model_dump(mode="json", exclude={"label"})


async def migrate(instance: Instance, target: AppRuntime,
                  mapping: dict[str, str]) -> dict[str, Any]:
    """Move ``instance`` to ``target``'s version of its flow."""
    name, version = instance.row["flow"], target.version
    refused = message("flow_migrate_refused", version=version)
    flow = target.flows.get(name)
    if flow is None:
        raise ValidationFailed(refused, [Problem("version", message(
            "flow_migrate_no_flow", version=version, name=name))])
    problems = []
    if instance.row["joins"]:
        problems.append(Problem("mapping", message("flow_migrate_joins")))
    moves = []
    for activation in await store.active_activations(instance.conn, instance.id):
        node = activation["node"]
        new = mapping.get(node, node)
        old_spec = instance.flow.spec.nodes.get(node)
        new_spec = flow.spec.nodes.get(new)
        if new_spec is None:
            problems.append(Problem(f"mapping.{node}", message(
                "flow_migrate_no_node", node=node, target=new, version=version)))
        elif old_spec is not None and _shape(old_spec) != _shape(new_spec):
            problems.append(Problem(f"mapping.{node}", message(
                "flow_migrate_changed", node=node, target=new, version=version)))
        else:
            moves.append((activation, new))
    if problems:
        raise ValidationFailed(refused, problems)
    for activation, new in moves:
        if new != activation["node"]:
            await instance.conn.execute(update(flow_activations).where(
                flow_activations.c.id == activation["id"]).values(node=new))
    before = instance.row["app_version"]
    await instance.conn.execute(update(flow_instances).where(
        flow_instances.c.id == instance.id).values(app_version=version))
    instance.row["app_version"] = version
    await store.record_history(instance.conn, instance.id, instance.now, "migrated",
                               actor_id=instance.actor.user_id,
                               details={"from": before, "to": version, "mapping": mapping})
    return {"from": before, "to": version}
