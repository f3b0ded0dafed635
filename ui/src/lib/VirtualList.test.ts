import { fireEvent, render } from "@testing-library/svelte";
import { tick } from "svelte";
import { describe, expect, it } from "vitest";
import Host from "./VirtualListHost.test.svelte";

// jsdom has neither layout nor ResizeObserver: sizes are set by hand and observers told by hand.
const observers: Array<{ fire(): void }> = [];
class TestResizeObserver {
  private targets: Element[] = [];
  constructor(private callback: ResizeObserverCallback) {
    observers.push(this);
  }
  observe(target: Element) {
    this.targets.push(target);
  }
  unobserve() {}
  disconnect() {}
  fire() {
    this.callback(
      this.targets.map((target) => ({ target }) as ResizeObserverEntry),
      this as unknown as ResizeObserver,
    );
  }
}
globalThis.ResizeObserver = TestResizeObserver as unknown as typeof ResizeObserver;

describe("VirtualList", () => {
  const items = Array.from({ length: 10_000 }, (_, i) => `file-${i}`);

  it("draws only the rows in view, however long the list", async () => {
    const { getByRole, getAllByTestId } = render(Host, { items });
    const viewport = getByRole("list");
    Object.defineProperty(viewport, "clientHeight", { value: 500, configurable: true });
    observers.forEach((o) => o.fire());
    await tick();
    const first = getAllByTestId("row").map((r) => r.textContent);
    expect(first[0]).toBe("file-0");
    expect(first).toContain("file-9"); // the tenth row is in a 500 px window of 50 px rows
    expect(first.length).toBeLessThan(40);

    viewport.scrollTop = 250_000; // row 5000
    await fireEvent.scroll(viewport);
    const later = getAllByTestId("row").map((r) => r.textContent);
    expect(later).toContain("file-5000");
    expect(later).toContain("file-5009");
    expect(later).not.toContain("file-0");
    expect(later.length).toBeLessThan(40);
    // The spacer keeps the scroll range of the whole list.
    expect((viewport.firstElementChild as HTMLElement).style.height).toBe("500000px");
  });
});
