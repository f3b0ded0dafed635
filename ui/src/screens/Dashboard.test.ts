import { cleanup, fireEvent, render, waitFor } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { StatsView } from "../lib/bindings";

const api = vi.hoisted(() => ({ stats: vi.fn() }));
vi.mock("../lib/bindings", () => ({ commands: api, Channel: class {} }));

// jsdom has no canvas: a stand-in chart records what it was asked to draw.
const charts = vi.hoisted(() => ({ made: [] as { config: any; destroyed: boolean }[] }));
vi.mock("chart.js", () => {
  class Chart {
    static defaults = { color: "", borderColor: "", font: { family: "" } };
    static register() {}
    record: { config: any; destroyed: boolean };
    constructor(_canvas: unknown, config: unknown) {
      this.record = { config, destroyed: false };
      charts.made.push(this.record);
    }
    destroy() {
      this.record.destroyed = true;
    }
  }
  const part = {};
  return {
    Chart,
    BarController: part,
    BarElement: part,
    CategoryScale: part,
    Legend: part,
    LinearScale: part,
    LineController: part,
    LineElement: part,
    PointElement: part,
    Tooltip: part,
  };
});

const { default: Dashboard } = await import("./Dashboard.svelte");

function stats(over: Partial<StatsView> = {}): StatsView {
  return {
    days: 7,
    questions: 12,
    failed: 1,
    error_rate: 1 / 12,
    latency: [
      { stage: "route", p50: 2, p95: 5 },
      { stage: "total", p50: 2000, p95: 4000 },
    ],
    guardrail_rate: 0.25,
    cache_hit_rate: null,
    local_share: 1,
    cloud_share: 0,
    tokens_in: 5000,
    tokens_out: 400,
    cost: 0,
    by_day: [{ day: "2026-12-02", questions: 12, tokens_in: 5000, tokens_out: 400, cost: 0, local: 11, cloud: 0 }],
    grounded_rate: 0.75,
    rated: 4,
    thumbs_up_rate: 0.5,
    follow_up_rate: null,
    deterministic_rate: 0.1,
    ...over,
  };
}

function live() {
  return charts.made.filter((c) => !c.destroyed);
}

beforeEach(() => {
  charts.made.length = 0;
  api.stats.mockReset();
  document.documentElement.style.setProperty("--accent", "#123456");
});

afterEach(() => {
  cleanup();
  document.documentElement.removeAttribute("data-theme");
  document.documentElement.style.removeProperty("--accent");
});

describe("Dashboard", () => {
  it("shows an empty state, and no chart, before any question", async () => {
    api.stats.mockResolvedValue(stats({ questions: 0, failed: 0, by_day: [], latency: [] }));
    const { findByTestId } = render(Dashboard);
    expect((await findByTestId("dashboard-empty")).textContent).toContain("No questions in the last 7 days");
    expect(api.stats).toHaveBeenCalledWith({ days: 7 });
    expect(charts.made).toHaveLength(0);
  });

  it("shows the figures, and says when no cache lookup was made yet", async () => {
    api.stats.mockResolvedValue(stats());
    const { findByTestId, getByTestId } = render(Dashboard);
    expect((await findByTestId("stat-cache-rate")).textContent).toContain("no lookups yet");
    expect(getByTestId("stat-error-rate").textContent).toContain("8%");
    expect(getByTestId("stat-thumbs-up").textContent).toContain("50%");
    expect(getByTestId("stat-thumbs-up").textContent).toContain("4 rated");
    expect(getByTestId("stat-follow-up").textContent).toContain("–");
    expect(getByTestId("stat-share").textContent).toContain("100% on this device");
  });

  it("asks for the period picked", async () => {
    api.stats.mockResolvedValue(stats());
    const { findByTestId, getByTestId } = render(Dashboard);
    await findByTestId("stat-error-rate");
    api.stats.mockResolvedValue(stats({ days: 30, questions: 40 }));
    await fireEvent.click(getByTestId("period-30"));
    await waitFor(() => expect(getByTestId("dashboard-summary").textContent).toContain("40 questions in the last 30 days"));
    expect(api.stats).toHaveBeenLastCalledWith({ days: 30 });
    expect(getByTestId("period-30").getAttribute("aria-pressed")).toBe("true");
    expect(getByTestId("period-7").getAttribute("aria-pressed")).toBe("false");
  });

  it("shows a failure as the command's message", async () => {
    api.stats.mockRejectedValue({ code: "internal", message: "The library could not be read." });
    const { findByRole } = render(Dashboard);
    expect((await findByRole("alert")).textContent).toContain("The library could not be read.");
  });

  it("draws its charts in the theme's colours, and again when the theme changes", async () => {
    api.stats.mockResolvedValue(stats());
    const { findByTestId } = render(Dashboard);
    await findByTestId("chart-latency");
    await waitFor(() => expect(live()).toHaveLength(3));
    const latency = live()[0].config;
    expect(latency.data.labels).toEqual(["Routing", "Retrieval", "First token", "Total"]);
    expect(latency.data.datasets[0].backgroundColor).toBe("#123456");

    document.documentElement.style.setProperty("--accent", "#abcdef");
    document.documentElement.dataset.theme = "dark";
    await waitFor(() => expect(live()[0]?.config.data.datasets[0].backgroundColor).toBe("#abcdef"));
    expect(live()).toHaveLength(3);
  });
});
