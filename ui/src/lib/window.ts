// Which rows of a long list to render: those in view, and a few on each side.

export type RowWindow = { start: number; end: number; offset: number; height: number };

export function rowWindow(count: number, rowHeight: number, scrollTop: number, viewport: number, overscan = 6): RowWindow {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const start = Math.max(0, Math.min(count, first - overscan));
  const end = Math.min(count, Math.ceil((Math.max(0, scrollTop) + Math.max(0, viewport)) / rowHeight) + overscan);
  return { start, end: Math.max(start, end), offset: start * rowHeight, height: count * rowHeight };
}
