//! An in-memory stand-in for the webview's localStorage, for Vitest (which runs without one).

export class MemoryStorage {
  m = new Map<string, string>();
  getItem(k: string) { return this.m.get(k) ?? null; }
  setItem(k: string, v: string) { this.m.set(k, v); }
  removeItem(k: string) { this.m.delete(k); }
}

/** Gives the test a fresh, empty localStorage. */
export function freshStorage(): MemoryStorage {
  const s = new MemoryStorage();
  (globalThis as unknown as { localStorage: MemoryStorage }).localStorage = s;
  return s;
}
