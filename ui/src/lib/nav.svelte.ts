// Which screen the window shows: the sidebar, the keyboard and links between screens (the chat's
// "held for review" note) all move it.

export type Screen = "library" | "chat" | "dashboard" | "review" | "settings" | "about";

class Nav {
  screen = $state<Screen>("library");

  go(screen: Screen): void {
    this.screen = screen;
  }
}

export const nav = new Nav();
