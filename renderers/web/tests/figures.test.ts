import { describe, expect, it } from "vitest";

import { compact, figure } from "@/dashboards/figures";

describe("dashboard figures", () => {
  it("read as money, counts, shares and days", () => {
    expect(figure(1545000, { type: "currency", scale: 2 }, "zh-CN", "天")).toBe("¥1,545,000.00");
    expect(figure(4, { type: "integer" }, "en", "days")).toBe("4");
    expect(figure(79.59, { type: "percent", scale: 2 }, "en", "days")).toBe("79.6%");
    expect(figure(12.25, { type: "days", scale: 2 }, "zh-CN", "天")).toBe("12.3 天");
  });

  it("say plainly when there is nothing to show", () => {
    expect(figure(null, { type: "currency" }, "en", "days")).toBe("—");
  });

  it("shorten large numbers on axes in the reader's language", () => {
    expect(compact(1545000, "zh-CN")).toBe("154.5万");
    expect(compact(1545000, "en")).toBe("1.5M");
  });
});
