// Where a card dropped into a kanban column goes in people's own order: the ranks to set so
// the column reads as it was left. Cards without a rank sort after ranked ones, so dropping
// below unranked cards ranks those above it too, top down.

export interface Ranked {
  id: number;
  rank: number | null | undefined;
}

const STEP = 1024;

/** The ranks to set (card id → rank) for ``items`` as they stand, the moved card at
 * ``index``: the moved card's always, and those of unranked cards above it. */
export function ranksAfterMove(items: Ranked[], index: number): Map<number, number> {
  const changes = new Map<number, number>();
  const blank = (value: number | null | undefined) => value === null || value === undefined;
  let first = index;  // the first unranked card above the moved one
  while (first > 0 && blank(items[first - 1].rank)) first -= 1;
  let previous = first > 0 ? Number(items[first - 1].rank) : null;
  for (let at = first; at < index; at += 1) {
    previous = (previous ?? 0) + STEP;
    changes.set(items[at].id, previous);
  }
  const below = items[index + 1]?.rank;
  let rank: number;
  if (previous !== null && !blank(below)) rank = (previous + Number(below)) / 2;
  else if (previous !== null) rank = previous + STEP;
  else if (!blank(below)) rank = Number(below) - STEP;
  else rank = STEP;
  changes.set(items[index].id, rank);
  return changes;
}
