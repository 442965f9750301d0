/**
 * Ids for what the app creates offline: time-ordered UUIDs (version 7, RFC 9562), the same
 * kind the server makes (app/models/base.py: new_id). 48 bits of Unix milliseconds, a 12-bit
 * counter that keeps ids made within one millisecond in order, then 62 random bits.
 *
 * Why not crypto.randomUUID(): ids that follow each other land at the end of the server's
 * indexes instead of on a random page each, which makes an outbox's sync several times
 * cheaper for the database at volume (bench/README.md, "Sync, fifth pass").
 */

let lastMs = -1;
let counter = 0;

/** The 16 bytes of a version-7 UUID for `now` (milliseconds since the epoch). */
export function uuid7Bytes(now: number, random: Uint8Array): Uint8Array {
  let ms = Math.max(0, Math.floor(now));
  if (ms <= lastMs) {
    // The same millisecond (or a clock that stepped back): count on from the last id.
    ms = lastMs;
    counter += 1;
    if (counter > 0xfff) {
      ms += 1; // 4,096 ids in one millisecond: borrow the next one
      counter = random[0] & 0x7ff;
    }
  } else {
    counter = ((random[0] << 8) | random[1]) & 0x7ff; // room to count up within the ms
  }
  lastMs = ms;
  const b = new Uint8Array(16);
  b.set(random.subarray(2, 12), 6); // bytes 6..15, overwritten in part below
  let t = ms;
  for (let i = 5; i >= 0; i -= 1) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8] & 0x3f);
  return b;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const x of bytes) out += x.toString(16).padStart(2, "0");
  return `${out.slice(0, 8)}-${out.slice(8, 12)}-${out.slice(12, 16)}-${out.slice(16, 20)}-${out.slice(20)}`;
}

/** A new id, as the lowercase hyphenated string the API takes. */
export function newId(): string {
  return hex(uuid7Bytes(Date.now(), crypto.getRandomValues(new Uint8Array(12))));
}
