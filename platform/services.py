"""The platform's shared services, built once per process (server, worker, CLI)."""

from __future__ import annotations

from dataclasses import dataclass

from loom.platform.apps.service import AppService
from loom.platform.clock import Clock
from loom.platform.compiled.app import RuntimeCache
from loom.platform.flows.hook import FlowHook, flow_events, flow_starter
from loom.platform.flows.runtime import FlowRuntime
from loom.platform.records.key_guard import KeyGuard
from loom.platform.records.pipeline import RecordPipeline
from loom.platform.records.rollups import RollupHook
from loom.platform.records.stages import StageHook
from loom.platform.rules.actions import ActionRunner
from loom.platform.rules.hook import RuleExecutor, RuleHook
from loom.platform.settings import Settings
from loom.platform.storage.database import Database
from loom.platform.tasks.completion import TaskCloser


@dataclass
class Services:
    settings: Settings
    database: Database
    clock: Clock
    apps: AppService
    pipeline: RecordPipeline
    rules: RuleExecutor
    flows: FlowRuntime


def build_services(settings: Settings, clock: Clock | None = None,
                   database: Database | None = None) -> Services:
    clock = clock or Clock()
    database = database or settings.open_database()
    apps_service = AppService(RuntimeCache(), clock, postgres=database.is_postgres,
                              ddl_lock_timeout_ms=settings.ddl_lock_timeout_ms)
    pipeline = RecordPipeline(clock)
    pipeline.hooks.append(RollupHook(pipeline))
    runner = ActionRunner(pipeline)
    pipeline.hooks.append(RuleHook(runner))
    pipeline.hooks.append(StageHook())  # after the rules: judges the record as they left it
    pipeline.hooks.append(TaskCloser())
    executor = RuleExecutor(pipeline, runner)
    flows = FlowRuntime(pipeline, runner, events=flow_events(executor), apps=apps_service)
    runner.flow_starter = flow_starter(flows)
    pipeline.hooks.append(FlowHook(flows))
    pipeline.hooks.append(KeyGuard())  # last: it judges what the rules left
    return Services(settings=settings, database=database, clock=clock, apps=apps_service,
                    pipeline=pipeline, rules=executor, flows=flows)
