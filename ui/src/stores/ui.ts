//! App-wide UI state: theme, notifications, confirmations.
import { readStored, writeStored } from "./stored";
import { create } from "zustand";
import type { ErrorBody } from "../platform";

export type Theme = "light" | "dark";

export interface Toast {
  id: number;
  kind: "info" | "error";
  text: string;
  action?: { label: string; run: () => void };
}

export interface Confirm {
  title: string;
  body: string;
  confirmLabel: string;
  danger: boolean;
  resolve: (ok: boolean) => void;
}

/** A remote instance to register, prefilled (a ghost on the canvas). */
export interface RegisterDraft {
  name: string;
  url: string;
}

interface UiState {
  theme: Theme;
  /** Set to open the register dialog prefilled; the shell clears it when it opens the dialog. */
  registerDraft: RegisterDraft | null;
  askRegister: (d: RegisterDraft | null) => void;
  toasts: Toast[];
  confirm: Confirm | null;
  setTheme: (t: Theme) => void;
  toast: (text: string, kind?: Toast["kind"], action?: Toast["action"]) => void;
  dismiss: (id: number) => void;
  ask: (c: Omit<Confirm, "resolve">) => Promise<boolean>;
}

const THEME_KEY = "switchyard.theme";

function initialTheme(): Theme {
  const system: Theme = typeof matchMedia !== "undefined" && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  return readStored<Theme>(THEME_KEY, system, (v) => v === "light" || v === "dark");
}

let nextToast = 1;

export const useUi = create<UiState>((set, get) => ({
  theme: initialTheme(),
  registerDraft: null,
  askRegister: (registerDraft) => set({ registerDraft }),
  toasts: [],
  confirm: null,
  setTheme: (theme) => {
    writeStored(THEME_KEY, theme);
    set({ theme });
  },
  toast: (text, kind = "info", action) => {
    const id = nextToast++;
    set({ toasts: [...get().toasts, { id, kind, text, action }].slice(-5) });
    setTimeout(() => get().dismiss(id), kind === "error" ? 12_000 : action ? 10_000 : 5_000);
  },
  dismiss: (id) => set({ toasts: get().toasts.filter((t) => t.id !== id) }),
  ask: (c) => new Promise<boolean>((resolve) => set({ confirm: { ...c, resolve: (ok) => { set({ confirm: null }); resolve(ok); } } })),
}));

/** A sentence for an error, naming what to do where the code says it. */
const HEADINGS: Partial<Record<ErrorBody["code"], string>> = {
  unauthorized: "Wrong user name or password",
  forbidden: "Permission denied",
  unreachable: "Cannot reach the instance",
  timeout: "Timed out",
  untrusted: "Untrusted certificate",
  keychain: "No keychain",
  not_found: "Not found",
  storage: "The server could not store the data",
};

/** Words a server's message may use that say nothing its heading does not already say. */
const SAYS_NOTHING_MORE = new Set(["login", "failed", "invalid", "incorrect", "unauthorized", "authentication", "credentials", "username", "or", "the", "a", "error"]);
const words = (t: string) => t.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);

export function describeError(e: ErrorBody): string {
  const heading = HEADINGS[e.code];
  if (!heading) return e.message;
  // A message that only repeats the heading ("Login failed" under "Wrong user name or
  // password") is left out rather than said twice.
  // A message that starts as the heading does ("cannot reach http://…" under "Cannot reach
  // the instance") says it better alone.
  if (e.message.toLowerCase().startsWith(words(heading).slice(0, 2).join(" ") + " ")) {
    return e.message.charAt(0).toUpperCase() + e.message.slice(1);
  }
  const said = new Set(words(heading));
  const more = words(e.message).some((w) => !said.has(w) && !SAYS_NOTHING_MORE.has(w));
  return more ? `${heading} — ${e.message}` : heading;
}

export function toastError(e: unknown) {
  const err = e as ErrorBody;
  useUi.getState().toast(describeError(err && err.code ? err : { code: "internal", message: String(e) }), "error");
}
