"""The map of the rooms in docs/ARCHITECTURE.md is kept true: every module's imports point
the way its table says, and the rooms form no cycle.

A room is a folder under ``engines/`` or ``platform/`` (or a module at their top), or one
of ``metamodel``, ``renderers``, ``migrations``. The table's "May import" column names the
rooms a room imports directly; through them it may use everything below them. Imports
under ``if TYPE_CHECKING:`` load nothing and are not followed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "ARCHITECTURE.md"
SOURCES = ("metamodel", "engines", "platform", "renderers", "migrations")
ROOM = re.compile(r"`([\w/.]+)`")


def room_of(module: str) -> str | None:
    """``loom.platform.records.reads`` → ``platform/records``; None outside Loom."""
    parts = module.split(".")
    if parts[0] != "loom" or len(parts) < 2 or parts[1] not in SOURCES:
        return None
    if parts[1] in ("metamodel", "renderers", "migrations") or len(parts) == 2:
        return parts[1]
    return f"{parts[1]}/{parts[2]}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return "loom." + ".".join(parts)


def runtime_imports(node: ast.AST) -> Iterator[str]:
    """The modules a file imports when it runs (type-checking-only imports left out)."""
    if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
        children: list[ast.AST] = list(node.orelse)
    else:
        children = list(ast.iter_child_nodes(node))
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        # ``from loom.platform import metrics`` imports the module loom.platform.metrics
        yield from (f"{node.module}.{alias.name}" for alias in node.names)
    elif isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    for child in children:
        yield from runtime_imports(child)


def source_files() -> Iterator[Path]:
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "node_modules" not in path.parts:
                yield path


def actual_edges() -> dict[tuple[str, str], list[str]]:
    """(from room, to room) → the imports that make the edge."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in source_files():
        module = module_name(path)
        source = room_of(module)
        for target_module in runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            target = room_of(target_module)
            if source and target and target != source:
                edges.setdefault((source, target), []).append(f"{module} → {target_module}")
    return edges


def table_rows(heading: str) -> list[list[str]]:
    """The cells of the first table under ``heading`` in docs/ARCHITECTURE.md."""
    lines = MAP.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading)
    rows: list[list[str]] = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not set(line) <= set("|-: "):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows[1:]  # the header row


def the_map() -> dict[str, set[str]]:
    rooms: dict[str, set[str]] = {}
    for room, _what, may_import in table_rows("## The map of the rooms"):
        [name] = ROOM.findall(room)
        rooms[name] = set(ROOM.findall(may_import))
    return rooms


def crossings() -> set[tuple[str, str]]:
    """Imports against the map's direction, each named in the doc until it is straightened."""
    listed = set()
    for source, target, _why in table_rows("## Crossings still to straighten"):
        listed.add((ROOM.findall(source)[0], ROOM.findall(target)[0]))
    return listed


def below(rooms: dict[str, set[str]], room: str) -> set[str]:
    seen: set[str] = set()
    todo = list(rooms.get(room, ()))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(rooms.get(name, ()))
    return seen


def test_every_module_lives_in_a_room_on_the_map() -> None:
    rooms = the_map()
    unmapped = {room_of(module_name(p)) for p in source_files()} - set(rooms)
    assert not unmapped, f"rooms missing from docs/ARCHITECTURE.md: {sorted(map(str, unmapped))}"


def test_the_map_names_only_rooms_that_exist() -> None:
    rooms = the_map()
    existing = {room_of(module_name(p)) for p in source_files()}
    named = set(rooms) | {r for targets in rooms.values() for r in targets}
    assert named <= existing, sorted(named - existing)


def test_the_map_has_no_cycle() -> None:
    rooms = the_map()
    circular = sorted(room for room in rooms if room in below(rooms, room))
    assert not circular, f"rooms that reach themselves: {circular}"


def test_imports_point_the_way_the_map_says() -> None:
    rooms = the_map()
    allowed = crossings()
    wrong = {edge: how for edge, how in actual_edges().items()
             if edge[1] not in below(rooms, edge[0]) and edge not in allowed}
    assert not wrong, "\n".join(f"{a} → {b}: {how[0]}" for (a, b), how in sorted(wrong.items()))


def test_each_listed_crossing_is_still_there() -> None:
    """A straightened crossing leaves the list, so the list stays the work still to do."""
    gone = crossings() - set(actual_edges())
    assert not gone, f"no longer imported, remove from the list: {sorted(gone)}"
