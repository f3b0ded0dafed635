// The privacy mode in force, for the parts of the window that say where answers are made (the
// sidebar, the chat's welcome). Settings keeps it current; `null` until known.

import { commands, type PrivacyMode } from "./bindings";

class Privacy {
  mode = $state<PrivacyMode | null>(null);

  async load(): Promise<void> {
    try {
      this.mode = (await commands.settings()).privacy;
    } catch {
      this.mode = null;
    }
  }
}

export const privacy = new Privacy();
