import { describe, expect, it } from "vitest";

import type { FieldSchema } from "@/api/types";
import { formatValue } from "@/widgets/format";

const zh = { locale: "zh-CN", timezone: "Asia/Shanghai",
             titles: { customer: { "16": "云启科技" }, "@user": { "7": "张伟" } } };
const en = { ...zh, locale: "en" };
const field = (type: string, extra: Partial<FieldSchema> = {}): FieldSchema =>
  ({ name: "f", label: "F", type, ...extra });

describe("values read by people", () => {
  it("show option labels, not stored values", () => {
    const source = field("select", { options: [{ value: "website", label: "官网" }] });
    expect(formatValue(source, "website", zh)).toBe("官网");
    const tags = field("multiselect", { options: [{ value: "a", label: "甲" },
                                                  { value: "b", label: "乙" }] });
    expect(formatValue(tags, ["a", "b"], zh)).toBe("甲、乙");
  });

  it("show money in yuan with separators", () => {
    expect(formatValue(field("currency"), 1234.5, zh)).toBe("¥1,234.50");
    expect(formatValue(field("currency"), 1234.5, en)).toBe("¥1,234.50");
  });

  it("show datetimes in the app's time zone", () => {
    expect(formatValue(field("datetime"), "2026-11-02T01:30:00Z", zh)).toBe("2026/11/02 09:30");
  });

  it("name referenced records and people, or show the id they cannot see", () => {
    expect(formatValue(field("lookup", { ref: "customer" }), 16, zh)).toBe("云启科技");
    expect(formatValue(field("lookup", { ref: "customer" }), 99, zh)).toBe("#99");
    expect(formatValue(field("user"), 7, zh)).toBe("张伟");
  });

  it("leave blanks blank", () => {
    expect(formatValue(field("text"), null, zh)).toBe("");
    expect(formatValue(field("currency"), undefined, zh)).toBe("");
  });
});
