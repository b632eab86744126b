//! A dialog: focus moves to its first field, stays inside while it is open (Tab and Shift+Tab
//! wrap) and goes back where it was when it closes; Escape closes, Enter in a field submits.
import { useEffect, useRef, type ReactNode } from "react";

const FOCUSABLE = "input:not([disabled]):not([type=hidden]), textarea:not([disabled]), select:not([disabled]), button:not([disabled]), [href], [tabindex]:not([tabindex='-1'])";

/** Keeps Tab inside `root`: past the last focusable element it wraps to the first, and back. */
export function trapTab(root: HTMLElement | null, e: React.KeyboardEvent) {
  if (e.key !== "Tab" || !root) return;
  const all = Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.offsetParent !== null || el === document.activeElement);
  if (!all.length) return;
  const [first, last] = [all[0], all[all.length - 1]];
  if (e.shiftKey && (document.activeElement === first || !root.contains(document.activeElement))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

/** Focus goes back to what had it before (the button that opened the dialog) on unmount. */
export function useFocusReturn() {
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    return () => {
      if (before && before.isConnected) before.focus();
    };
  }, []);
}

interface Props {
  title: string;
  onClose: () => void;
  onSubmit?: () => void;
  children: ReactNode;
  testId?: string;
  wide?: boolean;
}

export function Modal({ title, onClose, onSubmit, children, testId, wide }: Props) {
  const ref = useRef<HTMLFormElement>(null);
  useFocusReturn();
  useEffect(() => {
    // A field first (not the dialog's tabs or toolbar buttons), else its first button.
    const root = ref.current;
    const first = root?.querySelector<HTMLElement>("input:not([disabled]):not([type=hidden]), textarea:not([disabled]), select:not([disabled])") ?? root?.querySelector<HTMLElement>("button:not([disabled])");
    first?.focus();
  }, []);
  // A button that went away (Apply, once applied) leaves the focus on the page: Escape still
  // closes the dialog, which is the page's only active part.
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && (document.activeElement === null || document.activeElement === document.body)) close.current();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <form ref={ref} className={"modal" + (wide ? " wide" : "")} role="dialog" aria-modal="true" aria-label={title} data-testid={testId}
        onKeyDown={(e) => {
          trapTab(ref.current, e);
          if (e.key === "Escape") {
            e.stopPropagation();
            onClose();
          }
        }}
        onSubmit={(e) => {
          e.preventDefault();
          onSubmit?.();
        }}>
        <h3>{title}</h3>
        {children}
      </form>
    </div>
  );
}
