import { describe, expect, it } from "vitest";
import { matchScore, normalize, osaDistance, search } from "../src/fuzzy";
import { fitWithin } from "../src/image";

describe("osaDistance", () => {
  it("counts edits, with a transposition as one", () => {
    expect(osaDistance("receipt", "receipt")).toBe(0);
    expect(osaDistance("recipt", "receipt")).toBe(1);
    expect(osaDistance("reciept", "receipt")).toBe(1); // ie ↔ ei
    expect(osaDistance("", "abc")).toBe(3);
    expect(osaDistance("kitten", "sitting")).toBe(3);
  });
});

describe("search", () => {
  const titles = [
    "Refund policy unclear",
    "Asked for the receipt three times",
    "Queue longer than 10 minutes",
    "Card machine offline",
  ];
  const find = (q: string) => search(titles, q, (t) => t);

  it("is typo-tolerant", () => {
    expect(find("recipt")).toEqual(["Asked for the receipt three times"]);
    expect(find("reciept")).toEqual(["Asked for the receipt three times"]);
    expect(find("queu")).toEqual(["Queue longer than 10 minutes"]);
    expect(find("card machnie")).toEqual(["Card machine offline"]);
  });

  it("matches prefixes while typing, and ignores case, accents and punctuation", () => {
    expect(find("REF")).toEqual(["Refund policy unclear"]);
    expect(find("ofﬂine!")).toEqual(["Card machine offline"]);
    expect(normalize("Café – Queue!")).toBe("cafe queue");
  });

  it("keeps the frequency order without a query and finds nothing for nonsense", () => {
    expect(find("")).toEqual(titles);
    expect(find("zzzz")).toEqual([]);
    expect(find("xy")).toEqual([]);
  });

  it("ranks the closer title first", () => {
    const items = ["Recipe card missing", "Receipt missing"];
    expect(search(items, "receipt", (t) => t)[0]).toBe("Receipt missing");
    expect(matchScore("receipt", "Receipt missing")).toBe(1);
  });
});

describe("fitWithin", () => {
  it("shrinks the longest side to 1600 and never enlarges", () => {
    expect(fitWithin(4000, 3000)).toEqual({ width: 1600, height: 1200 });
    expect(fitWithin(1200, 4800)).toEqual({ width: 400, height: 1600 });
    expect(fitWithin(800, 600)).toEqual({ width: 800, height: 600 });
  });
});
