// How many answers wait for review, for the sidebar. The Review screen sets it from the list it
// shows; the app asks at start and after a chat answer that was queued.

import { commands } from "./bindings";
import { pendingCount } from "./review";

class Reviews {
  /** Answers waiting for a decision; `null` until known. */
  pending = $state<number | null>(null);

  async refresh(): Promise<void> {
    try {
      this.pending = pendingCount(await commands.reviews({ all: false }));
    } catch {
      // The count is a hint; the Review screen says what went wrong.
    }
  }
}

export const reviews = new Reviews();
