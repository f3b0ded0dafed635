// The Dashboard's rules without any framework or chart library: how rates, times and money read,
// and how a StatsView turns into the series the charts draw. Pure, so the rules are unit-tested.

import type { StatsView } from "./bindings";

/** The periods a person can pick, in days. */
export const PERIODS = [7, 30, 90] as const;
export type Period = (typeof PERIODS)[number];

/** The stages of an answer, in the order they happen, with the names a person reads. */
export const STAGES: { id: string; label: string }[] = [
  { id: "route", label: "Routing" },
  { id: "retrieve", label: "Retrieval" },
  { id: "first_token", label: "First token" },
  { id: "total", label: "Total" },
];

/** A share (0..1) as a percentage; "–" when there was nothing to count. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return "–";
  const pct = Math.min(Math.max(rate, 0), 1) * 100;
  if (pct > 0 && pct < 1) return `${pct.toFixed(1)}%`;
  if (pct < 100 && pct > 99) return `${pct.toFixed(1)}%`;
  return `${Math.round(pct)}%`;
}

/** Milliseconds as a person reads them: `850 ms`, `1.2 s`, `2 min 5 s`. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

/** US dollars: `$0` for nothing, four decimals below a cent, two above. */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return "–";
  if (usd === 0) return "$0";
  if (usd < 0.0001) return "<$0.0001";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

/** A day from Unix seconds, in this device's time zone: `Mar 12, 2025`; "–" when unknown. */
export function formatDay(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  return new Date(seconds * 1000).toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric" });
}

/** A count of tokens, short: `950`, `12.3k`, `4.5M`. */
export function formatTokens(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** True when the period holds no question: the Dashboard shows a note instead of charts. */
export function isEmpty(stats: StatsView | null): boolean {
  return stats === null || stats.questions <= 0;
}

/** What the cache-hit tile says: the share of cache lookups that hit, or that none was made. */
export function cacheLabel(rate: number | null): string {
  return rate === null ? "no lookups yet" : formatRate(rate);
}

export type LatencySeries = { labels: string[]; p50: number[]; p95: number[] };

/** p50 and p95 per stage, in stage order; a stage missing from the stats reads 0, unknown ones follow. */
export function latencySeries(stats: StatsView): LatencySeries {
  const byStage = new Map(stats.latency.map((l) => [l.stage, l]));
  const ids = [...STAGES.map((s) => s.id), ...stats.latency.map((l) => l.stage).filter((s) => !STAGES.some((k) => k.id === s))];
  const labels: string[] = [];
  const p50: number[] = [];
  const p95: number[] = [];
  for (const id of ids) {
    const l = byStage.get(id);
    labels.push(STAGES.find((s) => s.id === id)?.label ?? id);
    p50.push(l ? Math.max(0, l.p50) : 0);
    p95.push(l ? Math.max(0, l.p95) : 0);
  }
  return { labels, p50, p95 };
}

export type UsageSeries = {
  labels: string[];
  tokensIn: number[];
  tokensOut: number[];
  cost: number[];
  local: number[];
  cloud: number[];
};

/** Tokens, cost and where answers were made, day by day, oldest first. */
export function usageSeries(stats: StatsView): UsageSeries {
  const days = [...stats.by_day].sort((a, b) => a.day.localeCompare(b.day));
  return {
    labels: days.map((d) => d.day.slice(5)),
    tokensIn: days.map((d) => d.tokens_in),
    tokensOut: days.map((d) => d.tokens_out),
    cost: days.map((d) => d.cost),
    local: days.map((d) => d.local),
    cloud: days.map((d) => d.cloud),
  };
}

/** Local and cloud shares as a line: `80% on this device · 20% cloud`. */
export function shareLabel(stats: StatsView): string {
  if (stats.local_share === null && stats.cloud_share === null) return "no model-written answers";
  return `${formatRate(stats.local_share)} on this device · ${formatRate(stats.cloud_share)} cloud`;
}

/** The colours charts use, read from the theme's CSS variables. */
export type ChartColors = { text: string; muted: string; grid: string; accent: string; ok: string; warn: string; bad: string };

const FALLBACK: ChartColors = {
  text: "#22252b",
  muted: "#6a6f78",
  grid: "#dedbd3",
  accent: "#2f5d9b",
  ok: "#2e7d4f",
  warn: "#a86a00",
  bad: "#b3261e",
};

/** Reads a variable through `get`; an empty or missing one keeps the light theme's colour. */
export function chartColors(get: (name: string) => string): ChartColors {
  const read = (name: string, fallback: string) => get(name).trim() || fallback;
  return {
    text: read("--text", FALLBACK.text),
    muted: read("--muted", FALLBACK.muted),
    grid: read("--border", FALLBACK.grid),
    accent: read("--accent", FALLBACK.accent),
    ok: read("--ok", FALLBACK.ok),
    warn: read("--warn", FALLBACK.warn),
    bad: read("--bad", FALLBACK.bad),
  };
}
