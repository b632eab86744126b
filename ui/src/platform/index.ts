//! The one gateway to the native side: typed wrappers over Tauri's invoke and events.
//! Nothing else in the UI imports @tauri-apps/*.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen as listenEvent, type UnlistenFn } from "@tauri-apps/api/event";
import { nativeOf, type Commands } from "./commands";
import { ERROR_CODES } from "./ipc";
import type { ErrorBody, ErrorCode } from "./ipc";

export type * from "./ipc";
export { CLUSTER_NODES, SERVER_KINDS } from "./ipc";

/** A code from the native side, or `internal` for anything that is not one of ours. */
function asErrorCode(code: unknown): ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(String(code)) ? (code as ErrorCode) : "internal";
}

/** Every failure from the native side arrives as `{code, message}`. */
export function asErrorBody(e: unknown): ErrorBody {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    return { code: asErrorCode((e as ErrorBody).code), message: String((e as ErrorBody).message) };
  }
  return { code: "internal", message: e instanceof Error ? e.message : String(e) };
}

/** Invokes a command with the arguments and result generated from Rust (commands.ts). */
async function call<K extends keyof Commands>(cmd: K, args: Commands[K]["args"]): Promise<Commands[K]["returns"]> {
  try {
    return await invoke<Commands[K]["returns"]>(cmd, args);
  } catch (e) {
    throw asErrorBody(e);
  }
}

/** Hands what arrives on a new channel to `on`. */
function listen<T>(on: (item: T) => void): Channel<T> {
  const channel = new Channel<T>();
  channel.onmessage = on;
  return channel;
}

/**
 * Every command, generated with its Rust signature (commands.ts): `native.<feature>_<verb>` is
 * the command and the studio's method of that name; a channel argument is a callback.
 */
export const native = nativeOf(call, listen);

/** The native side says instances changed (local ones started on launch, for example). */
export function onRegistryChanged(f: () => void): Promise<UnlistenFn> {
  return listenEvent("registry-changed", () => f());
}

/** The native side says an alert started or ended (the studio watches with the canvas closed). */
export function onHealthChanged(f: () => void): Promise<UnlistenFn> {
  return listenEvent("health-changed", () => f());
}
