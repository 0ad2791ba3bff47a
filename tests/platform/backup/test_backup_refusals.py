"""A backup of one workspace holds that workspace only; a restore refuses, with a message
that says why, an archive that is damaged, made by a newer Loom, or of the other kind of
database — before it touches the database it was to restore into."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from backup_kit import empty_database_like, everything

from loom.metamodel.errors import LoomError
from loom.platform.apps.cloning import clone_template
from loom.platform.backup import back_up, restore
from loom.platform.security.actors import system_actor
from loom.platform.security.users import ensure_workspace
from loom.platform.services import Services
from loom.platform.settings import Settings


async def _two_workspaces(services: Services) -> None:
    """The default workspace with a CRM and a customer, another with a CRM of its own."""
    async with services.database.write() as conn:
        default = await ensure_workspace(conn, "default", services.clock)
        other = await ensure_workspace(conn, "other", services.clock, "Other Co")
        for workspace, name in ((default, "默认公司客户"), (other, "别家公司客户")):
            actor = system_actor(workspace, "cli")
            await clone_template(services.apps, services.pipeline, conn, actor, "crm", "crm")
            runtime = await services.apps.runtime(conn, actor, "crm")
            await services.pipeline.create_many(conn, runtime, actor.via("import"),
                                                "customer", [{"name": name}])


def _restored_settings(url: str, folder: Path) -> Settings:
    return Settings(database_url=url, data_dir=folder)


async def test_a_workspace_backup_holds_that_workspace_only(services: Services,
                                                            tmp_path: Path) -> None:
    await _two_workspaces(services)
    source = await everything(services.settings.resolved_database_url())
    outcome = await back_up(services.settings, tmp_path / "default.tar.gz", "default")
    assert outcome.manifest.workspace == "default"

    target = await empty_database_like(services.settings.resolved_database_url(), tmp_path)
    await restore(_restored_settings(target, tmp_path / "restored"), outcome.archive)
    restored = await everything(target)
    assert [row[1] for row in restored[next(n for n in restored
                                            if n.endswith(".workspaces"))]] == ["default"]
    assert not [name for name in restored if "other" in name]
    app_tables = [name for name in source if "crm__" in name and "other" not in name]
    assert app_tables and all(restored[name] == source[name] for name in app_tables)
    assert [name for name in source if "other" in name]  # the other one had tables

    with pytest.raises(LoomError, match="There is no workspace 'nowhere'"):
        await back_up(services.settings, tmp_path / "nowhere.tar.gz", "nowhere")
    assert not (tmp_path / "nowhere.tar.gz").exists()


def _rewritten(archive: Path, target: Path, *, manifest: dict | None = None,
               member: tuple[str, bytes] | None = None) -> Path:
    """A copy of ``archive`` with its manifest or one member's bytes replaced."""
    with tarfile.open(archive) as old, tarfile.open(target, "w:gz") as new:
        for info in old.getmembers():
            body = old.extractfile(info).read()
            if info.name == "manifest.json" and manifest is not None:
                body = json.dumps({**json.loads(body), **manifest}).encode()
            if member and info.name == member[0]:
                body = member[1]
            info.size = len(body)
            new.addfile(info, io.BytesIO(body))
    return target


async def test_a_restore_refuses_what_it_cannot_trust(services: Services,
                                                      tmp_path: Path) -> None:
    await _two_workspaces(services)
    good = (await back_up(services.settings, tmp_path / "good.tar.gz")).archive
    target = await empty_database_like(services.settings.resolved_database_url(), tmp_path)
    settings = _restored_settings(target, tmp_path / "restored")
    kind = "sqlite" if settings.is_sqlite else "postgresql"
    with tarfile.open(good) as tar:
        some_member = next(name for name in tar.getnames() if name != "manifest.json")

    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    not_tar = tmp_path / "notes.tar.gz"
    not_tar.write_text("客户名单", encoding="utf-8")
    cases = {
        cut: "The backup cut.tar.gz is damaged or not a Loom backup",
        not_tar: "The backup notes.tar.gz is damaged or not a Loom backup",
        _rewritten(good, tmp_path / "changed.tar.gz", member=(some_member, b"tampered")):
            f"is damaged or not a Loom backup: {some_member} does not match its checksum",
        _rewritten(good, tmp_path / "newer.tar.gz",
                   manifest={"revision": "0099_from_the_future", "loom_version": "9.0"}):
            "The backup newer.tar.gz was made by a newer Loom (9.0, schema revision "
            "0099_from_the_future); upgrade Loom, then restore it",
        _rewritten(good, tmp_path / "format.tar.gz", manifest={"format": 7}):
            "The backup format.tar.gz has format 7; this Loom reads format 1",
        _rewritten(good, tmp_path / "kind.tar.gz",
                   manifest={"database": "postgresql" if kind == "sqlite" else "sqlite"}):
            f"this Loom runs on {kind}",
    }
    for archive, expected in cases.items():
        with pytest.raises(LoomError) as refused:
            await restore(settings, archive)
        assert expected in str(refused.value), archive.name
    assert await everything(target) == {}  # nothing was touched

    await restore(settings, good)
    with pytest.raises(LoomError, match=r"is not empty \(2 workspace\(s\)\)"):
        await restore(settings, good)
