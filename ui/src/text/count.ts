//! Numbers with their nouns, in agreement ("1 record", "2 records"), the way every screen
//! writes them.

/** `n` and `noun`, plural unless `n` is 1 (`plural` when the noun does not take an "s"). */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? noun : plural}`;
}
