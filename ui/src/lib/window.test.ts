import { describe, expect, it } from "vitest";
import { rowWindow } from "./window";

describe("rowWindow", () => {
  it("renders the rows in view and a few around them", () => {
    expect(rowWindow(10_000, 50, 5_000, 500, 5)).toEqual({ start: 95, end: 115, offset: 4750, height: 500_000 });
  });

  it("stays inside the list at both ends and when empty", () => {
    expect(rowWindow(10, 50, 0, 500, 5)).toEqual({ start: 0, end: 10, offset: 0, height: 500 });
    expect(rowWindow(10, 50, 10_000, 500, 5)).toEqual({ start: 10, end: 10, offset: 500, height: 500 });
    expect(rowWindow(0, 50, 0, 0)).toEqual({ start: 0, end: 0, offset: 0, height: 0 });
  });
});
