import { describe, expect, it } from "vitest";
import type { StatsView } from "./bindings";
import {
  cacheLabel,
  chartColors,
  formatCost,
  formatDay,
  formatMs,
  formatRate,
  formatTokens,
  isEmpty,
  latencySeries,
  shareLabel,
  usageSeries,
} from "./dashboard";

function stats(over: Partial<StatsView> = {}): StatsView {
  return {
    days: 7,
    questions: 10,
    failed: 1,
    error_rate: 0.1,
    latency: [
      { stage: "total", p50: 2400, p95: 5100 },
      { stage: "route", p50: 2, p95: 4 },
      { stage: "retrieve", p50: 40, p95: 90 },
    ],
    guardrail_rate: 0.05,
    cache_hit_rate: null,
    local_share: 0.75,
    cloud_share: 0.25,
    tokens_in: 12000,
    tokens_out: 900,
    cost: 0.0042,
    by_day: [
      { day: "2026-12-02", questions: 4, tokens_in: 5000, tokens_out: 400, cost: 0.002, local: 3, cloud: 1 },
      { day: "2026-12-01", questions: 6, tokens_in: 7000, tokens_out: 500, cost: 0.0022, local: 4, cloud: 2 },
    ],
    grounded_rate: 0.9,
    rated: 3,
    thumbs_up_rate: 2 / 3,
    follow_up_rate: 0.2,
    deterministic_rate: 0,
    ...over,
  };
}

describe("formatting", () => {
  it("reads rates as percentages, and nothing to count as a dash", () => {
    expect(formatRate(null)).toBe("–");
    expect(formatRate(0)).toBe("0%");
    expect(formatRate(1)).toBe("100%");
    expect(formatRate(2 / 3)).toBe("67%");
    expect(formatRate(0.004)).toBe("0.4%");
    expect(formatRate(0.996)).toBe("99.6%");
    expect(formatRate(Number.NaN)).toBe("–");
  });

  it("reads milliseconds in the unit that fits", () => {
    expect(formatMs(3.4)).toBe("3 ms");
    expect(formatMs(999)).toBe("999 ms");
    expect(formatMs(1234)).toBe("1.23 s");
    expect(formatMs(12_345)).toBe("12.3 s");
    expect(formatMs(125_000)).toBe("2 min 5 s");
    expect(formatMs(120_000)).toBe("2 min");
    expect(formatMs(null)).toBe("–");
  });

  it("reads money with enough decimals to see a cloud question's cost", () => {
    expect(formatCost(0)).toBe("$0");
    expect(formatCost(0.0042)).toBe("$0.0042");
    expect(formatCost(0.00001)).toBe("<$0.0001");
    expect(formatCost(1.5)).toBe("$1.50");
  });

  it("reads Unix seconds as a day", () => {
    expect(formatDay(Date.UTC(2025, 2, 12, 12) / 1000)).toBe("Mar 12, 2025");
    expect(formatDay(null)).toBe("–");
    expect(formatDay(Number.NaN)).toBe("–");
  });

  it("shortens token counts", () => {
    expect(formatTokens(950)).toBe("950");
    expect(formatTokens(1234)).toBe("1.2k");
    expect(formatTokens(45_600)).toBe("46k");
    expect(formatTokens(4_500_000)).toBe("4.5M");
  });
});

describe("stats", () => {
  it("is empty without questions", () => {
    expect(isEmpty(null)).toBe(true);
    expect(isEmpty(stats({ questions: 0, by_day: [] }))).toBe(true);
    expect(isEmpty(stats())).toBe(false);
  });

  it("says when no cache lookup was made yet", () => {
    expect(cacheLabel(null)).toBe("no lookups yet");
    expect(cacheLabel(0.25)).toBe("25%");
  });

  it("orders latency by stage and fills a missing stage with 0", () => {
    const s = latencySeries(stats());
    expect(s.labels).toEqual(["Routing", "Retrieval", "First token", "Total"]);
    expect(s.p50).toEqual([2, 40, 0, 2400]);
    expect(s.p95).toEqual([4, 90, 0, 5100]);
  });

  it("keeps a stage it does not know, after the known ones", () => {
    const s = latencySeries(stats({ latency: [{ stage: "rerank", p50: 7, p95: 9 }] }));
    expect(s.labels).toEqual(["Routing", "Retrieval", "First token", "Total", "rerank"]);
    expect(s.p95[4]).toBe(9);
  });

  it("turns days into series, oldest first", () => {
    const u = usageSeries(stats());
    expect(u.labels).toEqual(["12-01", "12-02"]);
    expect(u.tokensIn).toEqual([7000, 5000]);
    expect(u.cost).toEqual([0.0022, 0.002]);
    expect(u.cloud).toEqual([2, 1]);
  });

  it("says where answers were made", () => {
    expect(shareLabel(stats())).toBe("75% on this device · 25% cloud");
    expect(shareLabel(stats({ local_share: null, cloud_share: null }))).toBe("no model-written answers");
  });
});

describe("chart colours", () => {
  it("reads the theme's variables and keeps a default for a missing one", () => {
    const vars: Record<string, string> = { "--text": " #e6e7ea", "--accent": "#7aa7e6" };
    const c = chartColors((n) => vars[n] ?? "");
    expect(c.text).toBe("#e6e7ea");
    expect(c.accent).toBe("#7aa7e6");
    expect(c.grid).toBe("#dedbd3");
  });
});
