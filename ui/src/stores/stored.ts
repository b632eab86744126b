//! Preferences kept in the webview's storage across sessions (theme, zone, SQL history, saved
//! tail filters, column widths): never secrets, never data. Unavailable or full storage keeps
//! them for this session only.

/** The value stored under `key` if `valid` accepts it, else `fallback`. A value stored as plain
 * text (before values were stored as JSON) is read as that text. */
export function readStored<T>(key: string, fallback: T, valid: (v: unknown) => boolean): T {
  let raw: string | null = null;
  try {
    raw = typeof localStorage !== "undefined" ? localStorage.getItem(key) : null;
  } catch {
    return fallback;
  }
  if (raw === null) return fallback;
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Plain text.
  }
  return valid(value) ? (value as T) : fallback;
}

export function writeStored(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // A comfort, not data: kept for this session only.
  }
}
