// Light, dark, or whatever the system says; remembered on this device.

export type ThemeChoice = "system" | "light" | "dark";

const KEY = "cairn.theme";

function systemDark(): boolean {
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
}

class Theme {
  choice = $state<ThemeChoice>("system");

  init(): void {
    const saved = localStorage.getItem(KEY);
    if (saved === "light" || saved === "dark" || saved === "system") this.choice = saved;
    this.apply();
    if (typeof matchMedia === "function") {
      matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.apply());
    }
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    localStorage.setItem(KEY, choice);
    this.apply();
  }

  /** Light → dark → system → light. */
  cycle(): void {
    this.set(this.choice === "light" ? "dark" : this.choice === "dark" ? "system" : "light");
  }

  private apply(): void {
    const dark = this.choice === "dark" || (this.choice === "system" && systemDark());
    document.documentElement.dataset.theme = dark ? "dark" : "light";
  }
}

export const theme = new Theme();
