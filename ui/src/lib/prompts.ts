// The prompt templates on the Settings screen, without any framework: what each is for, how its
// versions read, and the settings a roll-back saves. Pure, so the rules are unit-tested.

import type { PromptSetting, Settings } from "./bindings";

/** What each template is used for. */
const DESCRIPTIONS: Record<string, string> = {
  grounded: "Answers to factual questions, from the library's passages.",
  analytical: "Short explained answers to questions that need reasoning over the passages.",
  chitchat: "Small talk, without searching the library.",
  "not-found": "Fixed answer when the library holds nothing relevant.",
  unsupported: "Fixed answer when a generated answer was not supported by its passages.",
  fallback: "Fixed answer when every model failed: the best passage is quoted.",
  refusal: "Fixed answer: the polite refusal.",
  document: "Answers to a request about one whole document (“summarise it”), from its parts in order.",
  overview: "An overview of a document too long to read at once, from the most typical passage of each part.",
  quoted: "Fixed answer quoting the passages' own sentences when a generated answer was not supported.",
  "document-notes": "Notes on one part of a document too long to read at once, for the whole-document answer.",
  "no-document": "Fixed answer when the document a question names is not in the collection.",
};

/** What a template is used for; a plain note for one this screen does not know yet. */
export function promptDescription(name: string): string {
  return DESCRIPTIONS[name] ?? "A prompt template.";
}

/** A version as the select lists it: the default one is marked. */
export function versionLabel(p: PromptSetting, version: string): string {
  return version === p.default ? `${version} (default)` : version;
}

/** The select's options, oldest first; the active version is listed even if it is not a known one. */
export function versionOptions(p: PromptSetting): { value: string; label: string }[] {
  const versions = p.versions.includes(p.active) ? p.versions : [...p.versions, p.active];
  return versions.map((v) => ({ value: v, label: versionLabel(p, v) }));
}

/** The version as an answer's trace records it, e.g. `grounded@1.1.0`. */
export function promptTag(p: PromptSetting): string {
  return `${p.name}@${p.active}`;
}

/** The roll-back button's text, or `null` when there is nothing to roll back to. */
export function rollBackLabel(p: PromptSetting): string | null {
  return p.previous === null ? null : `Roll back to ${p.previous}`;
}

/**
 * The settings with one template switched back to its previous version, everything else as it
 * is; `null` when the template is unknown or has nothing to roll back to. `settings` is not changed.
 */
export function rolledBack(settings: Settings, name: string): Settings | null {
  const target = settings.prompts.find((p) => p.name === name);
  if (!target || target.previous === null) return null;
  const previous = target.previous;
  return {
    ...settings,
    prompts: settings.prompts.map((p) => (p.name === name ? { ...p, active: previous } : p)),
  };
}
