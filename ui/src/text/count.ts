//! Numbers the way every screen writes them: grouped by thousands ("100,000") whatever the
//! machine's locale, and with their nouns in agreement ("1 record", "2 records").

const GROUPED = new Intl.NumberFormat("en-US");

/** `n` grouped by thousands: the one way a count is written anywhere in the studio. */
export function grouped(n: number): string {
  return GROUPED.format(n);
}

/** `n` and `noun`, plural unless `n` is 1 (`plural` when the noun does not take an "s"). */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${grouped(n)} ${n === 1 ? noun : plural}`;
}
