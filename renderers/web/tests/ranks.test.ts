import { describe, expect, it } from "vitest";

import { ranksAfterMove } from "@/runtime/ranks";

const card = (id: number, rank: number | null = null) => ({ id, rank });
const order = (items: { id: number; rank: number | null }[], changes: Map<number, number>) =>
  items.map((item) => ({ ...item, rank: changes.get(item.id) ?? item.rank }))
    .sort((a, b) => (a.rank === null ? 1 : b.rank === null ? -1 : a.rank - b.rank))
    .map((item) => item.id);

describe("a card moved within a ranked column", () => {
  it("lands between its neighbours", () => {
    const items = [card(1, 100), card(9, 500), card(2, 200)];  // 9 dropped between 1 and 2
    const changes = ranksAfterMove(items, 1);
    expect([...changes]).toEqual([[9, 150]]);
    expect(order(items, changes)).toEqual([1, 9, 2]);
  });

  it("goes first or last", () => {
    expect(ranksAfterMove([card(9, 50), card(1, 100)], 0).get(9)).toBeLessThan(100);
    expect(ranksAfterMove([card(1, 100), card(9, 5)], 1).get(9)).toBeGreaterThan(100);
  });
});

describe("a card moved among unranked ones", () => {
  it("ranks the cards above it, so the column reads as it was left", () => {
    const items = [card(1), card(2), card(9), card(3)];
    const changes = ranksAfterMove(items, 2);
    expect([...changes.keys()]).toEqual([1, 2, 9]);
    expect(order(items, changes)).toEqual([1, 2, 9, 3]);
  });

  it("continues after the ranked cards above", () => {
    const items = [card(1, 10), card(2), card(9), card(3)];
    const changes = ranksAfterMove(items, 2);
    expect(changes.has(1)).toBe(false);
    expect(order(items, changes)).toEqual([1, 2, 9, 3]);
  });

  it("needs only its own rank at the top of a column", () => {
    const changes = ranksAfterMove([card(9), card(1), card(2)], 0);
    expect([...changes.keys()]).toEqual([9]);
  });
});
