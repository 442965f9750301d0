// @vitest-environment node
import { describe, expect, it } from "vitest";
import { newId, uuid7Bytes } from "../src/ids";

const FORM = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function msOf(id: string): number {
  return parseInt(id.replace(/-/g, "").slice(0, 12), 16);
}

describe("newId", () => {
  it("is a version-7 UUID carrying the current millisecond", () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(id).toMatch(FORM);
    expect(msOf(id)).toBeGreaterThanOrEqual(before);
    expect(msOf(id)).toBeLessThanOrEqual(after);
  });

  it("sorts in the order the ids were made, thousands per millisecond included", () => {
    const ids = Array.from({ length: 10_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it("keeps counting when the clock steps back, and borrows the next millisecond past 4,096", () => {
    const random = new Uint8Array(12).fill(0xff);
    const t = 4_102_444_800_000; // 2100-01-01
    const first = uuid7Bytes(t, random);
    const stepBack = uuid7Bytes(t - 5_000, random);
    const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    expect(hexOf(stepBack) > hexOf(first)).toBe(true);
    let last = stepBack;
    for (let i = 0; i < 5_000; i += 1) {
      const next = uuid7Bytes(t, random);
      expect(hexOf(next) > hexOf(last)).toBe(true);
      last = next;
    }
    expect(msOf(hexOf(last).padEnd(32, "0"))).toBe(t + 1);
    expect(last[6] >> 4).toBe(7);
    expect(last[8] >> 6).toBe(0b10);
  });
});
