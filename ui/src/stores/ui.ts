//! App-wide UI state: theme, notifications, confirmations.
import { readStored, writeStored } from "./stored";
import { create } from "zustand";
import type { UiError } from "../platform";

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
export function describeError(e: UiError): string {
  switch (e.code) {
    case "unauthorized":
      return `Wrong user name or password — ${e.message}`;
    case "forbidden":
      return `Permission denied — ${e.message}`;
    case "unreachable":
      return `Cannot reach the instance — ${e.message}`;
    case "timeout":
      return `Timed out — ${e.message}`;
    case "untrusted":
      return `Untrusted certificate — ${e.message}`;
    case "keychain":
      return `No keychain — ${e.message}`;
    case "not_found":
      return `Not found — ${e.message}`;
    case "storage":
      return `The server could not store the data — ${e.message}`;
    default:
      return e.message;
  }
}

export function toastError(e: unknown) {
  const err = e as UiError;
  useUi.getState().toast(describeError(err && err.code ? err : { code: "internal", message: String(e) }), "error");
}
