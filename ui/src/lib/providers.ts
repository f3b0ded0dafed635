// Cloud models as the UI shows them, without any framework: the privacy modes, the provider form
// and its checks, budgets, spend, and the line under an answer that says who made it. Pure, so the
// rules are unit-tested.

import type { BudgetSettings, PrivacyMode, ProviderModelView, ProviderView } from "./bindings";

// ---------------------------------------------------------------------------------------------
// Privacy modes

export type ModeInfo = { value: PrivacyMode; label: string; description: string };

/** The router's policies, offline-only (the default) first. */
export const PRIVACY_MODES: readonly ModeInfo[] = [
  { value: "offline_only", label: "Offline only", description: "Nothing leaves this device. The default." },
  {
    value: "cost_aware",
    label: "Cost-aware",
    description: "The local model for simple questions, the cheapest cloud model for harder ones.",
  },
  { value: "latency_aware", label: "Latency-aware", description: "The fastest model, as measured." },
  { value: "quality_first", label: "Quality first", description: "The strongest cloud model." },
  { value: "hybrid", label: "Hybrid", description: "The local model, unless the question is complex." },
];

export function modeLabel(mode: PrivacyMode): string {
  return PRIVACY_MODES.find((m) => m.value === mode)?.label ?? mode;
}

/** Whether a mode may send a question (and its passages) to a provider. */
export function usesProviders(mode: PrivacyMode): boolean {
  return mode !== "offline_only";
}

/** A mode that uses providers cannot be chosen while none is configured. */
export function modeDisabled(mode: PrivacyMode, providerCount: number): boolean {
  return usesProviders(mode) && providerCount === 0;
}

/** The sidebar's note on where answers are made; `null`: not known yet. */
export function networkNote(mode: PrivacyMode | null): { label: string; title: string } | null {
  if (mode === null) return null;
  if (!usesProviders(mode)) {
    return {
      label: "Offline · on this device",
      title: "Cairn opens no network connection: documents, questions and answers stay on this device.",
    };
  }
  return {
    label: `Cloud allowed · ${modeLabel(mode).toLowerCase()}`,
    title:
      `Mode ${modeLabel(mode).toLowerCase()}: a question and its passages may be sent to a provider set in Settings. ` +
      "Each answer says where it was made.",
  };
}

// ---------------------------------------------------------------------------------------------
// Numbers typed by a person

/** A non-negative amount as typed: digits with an optional decimal point (a leading `$` is allowed). */
function parseAmount(text: string): number | null {
  const t = text.trim().replace(/^\$\s*/, "");
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** The largest budget the app accepts (US dollars). */
export const MAX_BUDGET_USD = 1_000_000;

export type Parsed = { value: number | null; error: string | null };

/** A budget field: empty is no limit; otherwise dollars from 0 to a million. */
export function parseBudget(text: string): Parsed {
  if (text.trim() === "") return { value: null, error: null };
  const n = parseAmount(text);
  if (n === null) return { value: null, error: "a number of US dollars, e.g. 5 or 0.50, or empty for no limit" };
  if (n > MAX_BUDGET_USD) return { value: null, error: "at most 1,000,000 US dollars" };
  return { value: n, error: null };
}

/** What a budget field shows for a stored limit. */
export function budgetText(value: number | null): string {
  return value === null ? "" : String(value);
}

export type BudgetTexts = { conversation: string; day: string; month: string };

export function budgetTexts(b: BudgetSettings): BudgetTexts {
  return { conversation: budgetText(b.conversation_usd), day: budgetText(b.day_usd), month: budgetText(b.month_usd) };
}

/** What a day or month field says when a cloud mode is chosen without it. */
export const CAP_REQUIRED = "required while a mode uses cloud models";

/**
 * The three budget fields as settings, or what is wrong with them (by field). With `cloud` (a
 * mode that uses cloud models is chosen) the day and month limits must be set.
 */
export function parseBudgets(
  t: BudgetTexts,
  cloud = false,
): { budget: BudgetSettings | null; errors: Partial<BudgetTexts> } {
  const c = parseBudget(t.conversation);
  const d = parseBudget(t.day);
  const m = parseBudget(t.month);
  if (cloud && !d.error && d.value === null) d.error = CAP_REQUIRED;
  if (cloud && !m.error && m.value === null) m.error = CAP_REQUIRED;
  const errors: Partial<BudgetTexts> = {};
  if (c.error) errors.conversation = c.error;
  if (d.error) errors.day = d.error;
  if (m.error) errors.month = m.error;
  if (c.error || d.error || m.error) return { budget: null, errors };
  return { budget: { conversation_usd: c.value, day_usd: d.value, month_usd: m.value }, errors };
}

// ---------------------------------------------------------------------------------------------
// Providers

export type KindInfo = { value: string; label: string; defaultUrl: string | null };

export const PROVIDER_KINDS: readonly KindInfo[] = [
  { value: "openai", label: "OpenAI", defaultUrl: "https://api.openai.com/v1" },
  { value: "anthropic", label: "Anthropic", defaultUrl: "https://api.anthropic.com/v1" },
  { value: "mistral", label: "Mistral", defaultUrl: "https://api.mistral.ai/v1" },
  { value: "openai-compatible", label: "OpenAI-compatible server", defaultUrl: null },
];

export const MODEL_TIERS: readonly string[] = ["mid", "large"];

export function kindLabel(kind: string): string {
  return PROVIDER_KINDS.find((k) => k.value === kind)?.label ?? kind;
}

/** The address a provider is reached at, as shown. */
export function providerAddress(p: Pick<ProviderView, "kind" | "base_url">): string {
  if (p.base_url) return p.base_url;
  const fallback = PROVIDER_KINDS.find((k) => k.value === p.kind)?.defaultUrl;
  return fallback ? `${fallback} (default)` : "no address";
}

export function keyStatus(p: Pick<ProviderView, "needs_key" | "has_key">): string {
  if (!p.needs_key) return "needs no key";
  return p.has_key ? "key stored in the OS keychain" : "no key";
}

/** Dollars per million tokens, as in a price list. */
export function formatPrice(usd: number): string {
  return `$${Math.round(usd * 100) / 100 === usd ? usd.toFixed(2) : String(usd)}`;
}

export function modelSummary(m: ProviderModelView): string {
  return `${m.tier} · ${formatPrice(m.input_per_mtok)} in / ${formatPrice(m.output_per_mtok)} out per million tokens`;
}

/** One model row of the provider form, as typed. */
export type ModelRow = { id: string; tier: string; input: string; output: string };

/** The add/edit form. `editing` names the provider being changed (its name cannot change). */
export type ProviderForm = { editing: string | null; name: string; kind: string; baseUrl: string; models: ModelRow[] };

export function blankModelRow(): ModelRow {
  return { id: "", tier: "mid", input: "", output: "" };
}

/** The form for a new provider, or filled in from one to edit. */
export function providerForm(p: ProviderView | null = null): ProviderForm {
  if (!p) return { editing: null, name: "", kind: "openai", baseUrl: "", models: [blankModelRow()] };
  return {
    editing: p.name,
    name: p.name,
    kind: p.kind,
    baseUrl: p.base_url ?? "",
    models: p.models.map((m) => ({
      id: m.id,
      tier: m.tier,
      input: String(m.input_per_mtok),
      output: String(m.output_per_mtok),
    })),
  };
}

/** Names the router uses for itself: a provider cannot take them. */
const RESERVED = ["local", "none"];

export type Checked = { ok: true; view: ProviderView } | { ok: false; errors: string[] };

/** The form as a provider to save, or every reason it cannot be saved. */
export function checkProviderForm(form: ProviderForm, existing: readonly ProviderView[]): Checked {
  const errors: string[] = [];
  const name = form.name.trim();
  if (name === "") errors.push("Give the provider a name.");
  else if (!/^[A-Za-z0-9_-]+$/.test(name)) errors.push("The name may hold only letters, digits, '-' and '_'.");
  else if (RESERVED.includes(name.toLowerCase())) errors.push(`'${name}' is reserved: choose another name.`);
  else if (form.editing === null && existing.some((p) => p.name === name))
    errors.push(`There is already a provider called '${name}': edit it instead.`);

  const kind = PROVIDER_KINDS.find((k) => k.value === form.kind);
  if (!kind) errors.push("Choose the kind of provider.");
  const baseUrl = form.baseUrl.trim();
  if (baseUrl === "") {
    if (kind && kind.defaultUrl === null) errors.push("An OpenAI-compatible server needs its base URL.");
  } else if (!/^https?:\/\/\S+$/.test(baseUrl)) {
    errors.push("The base URL must start with https:// or http://.");
  }

  const models: ProviderModelView[] = [];
  if (form.models.length === 0) errors.push("Add at least one model.");
  const seen = new Set<string>();
  form.models.forEach((row, i) => {
    const at = form.models.length > 1 ? `Model ${i + 1}: ` : "Model: ";
    const id = row.id.trim();
    if (id === "") errors.push(`${at}give its name in the provider's API.`);
    else if (seen.has(id)) errors.push(`${at}'${id}' is listed twice.`);
    seen.add(id);
    if (!MODEL_TIERS.includes(row.tier)) errors.push(`${at}choose mid or large.`);
    const input = parseAmount(row.input);
    const output = parseAmount(row.output);
    if (input === null) errors.push(`${at}the input price is US dollars per million tokens (0 if free).`);
    if (output === null) errors.push(`${at}the output price is US dollars per million tokens (0 if free).`);
    if (input !== null && output !== null) {
      models.push({ id, tier: row.tier, input_per_mtok: input, output_per_mtok: output });
    }
  });

  if (errors.length > 0) return { ok: false, errors };
  const before = existing.find((p) => p.name === name);
  return {
    ok: true,
    view: {
      name,
      kind: form.kind,
      base_url: baseUrl === "" ? null : baseUrl,
      models,
      needs_key: form.kind !== "openai-compatible",
      has_key: before?.has_key ?? false,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Spend

/** US dollars: to the cent for whole cents and amounts of a dollar or more, else to the hundredth of a cent. */
export function formatUsd(usd: number): string {
  if (Math.abs(usd) >= 1 || Math.round(usd * 100) / 100 === usd) {
    return `$${usd.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  return `$${usd.toFixed(4)}`;
}

export function formatTokens(n: number): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? "token" : "tokens"}`;
}

export type Use = { text: string; fraction: number | null; over: boolean };

/** Spend against a limit: the sentence, the share used (0–1, for a bar) and whether it is over. */
export function budgetUse(spent: number, limit: number | null): Use {
  if (limit === null) return { text: `${formatUsd(spent)} · no limit`, fraction: null, over: false };
  const fraction = limit > 0 ? Math.min(spent / limit, 1) : 1;
  const over = spent >= limit;
  return { text: `${formatUsd(spent)} of ${formatUsd(limit)}${over ? " · limit reached" : ""}`, fraction, over };
}

// ---------------------------------------------------------------------------------------------
// Who made an answer

/** What the line under an answer is made from (a stored answer knows less than a new one). */
export type AnswerFacts = {
  route: string | null;
  model: string | null;
  tier: string | null;
  /** `local`, `none`, a provider's name, or `null` when not known (an answer reopened from a thread). */
  provider: string | null;
  /** US dollars, when known. */
  cost: number | null;
  redacted: number;
};

function isFixed(a: AnswerFacts): boolean {
  return a.tier === "deterministic" || a.model === "none" || a.provider === "none";
}

/** Routes whose name does not read well as it is. */
const ROUTE_LABELS: Record<string, string> = {
  // A request about one document: read whole, or answered from that document only.
  document: "whole document",
};

/** A route (`factual`, `out_of_scope`, `document`…) in words, for the badge and the trace. */
export function routeLabel(route: string): string {
  return ROUTE_LABELS[route] ?? route.replaceAll("_", " ");
}

/** The quiet line under an answer: route, who made it (and at what cost), with which model. */
export function answerBadge(a: AnswerFacts): string {
  const parts: string[] = [];
  if (a.route) parts.push(routeLabel(a.route));
  if (isFixed(a)) {
    parts.push("fixed answer", "on this device");
  } else if (a.provider === "local") {
    parts.push("on this device");
    if (a.model) parts.push(a.model);
  } else if (a.provider === "cache") {
    parts.push("from the answer cache", "on this device");
    if (a.model) parts.push(a.model);
  } else if (a.provider) {
    parts.push(`sent to ${a.provider}`);
    if (a.model) parts.push(a.model);
    if (a.redacted > 0) parts.push(`${a.redacted} redacted first`);
    if (a.cost !== null) parts.push(`$${a.cost.toFixed(4)}`);
  } else if (a.model) {
    parts.push(a.model);
  }
  return parts.join(" · ");
}

/** Whether a fallback model wrote the answer, after the first choice failed. */
export function isFallback(a: Pick<AnswerFacts, "tier">): boolean {
  return a.tier === "secondary";
}

/** Why this model, and what failed before it: the lines behind the badge. */
export function answerWhy(modelRoute: string | null, fallbacks: readonly string[]): string[] {
  const lines: string[] = [];
  if (modelRoute && modelRoute.trim()) lines.push(modelRoute.trim());
  for (const f of fallbacks) lines.push(`Failed first: ${f}`);
  return lines;
}
