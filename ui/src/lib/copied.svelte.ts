// What a Copy button just did, shown beside it for two seconds: copied, or could not be (no
// clipboard here, or it refused). One per screen; `what` names the button.

import { copyText } from "./localApi";

export class CopyNote {
  /** The last copy, while it is shown. */
  last = $state<{ what: string; ok: boolean } | null>(null);
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Copies `text` and shows the outcome beside the button `what`. */
  async copy(what: string, text: string): Promise<void> {
    clearTimeout(this.#timer);
    this.last = { what, ok: await copyText(text) };
    this.#timer = setTimeout(() => (this.last = null), 2000);
  }

  /** Hides the note at once (the screen is left, or what was copied is gone). */
  clear(): void {
    clearTimeout(this.#timer);
    this.last = null;
  }
}
