//! A small menu at a point (right-click, or a "⋯" button): where destructive and rarer actions
//! live, away from the everyday buttons. Keyboard: focus starts on the first item, arrows move,
//! Enter chooses, Escape or a click elsewhere closes.
import { useEffect, useRef } from "react";

export interface MenuItem {
  label: string;
  run: () => void;
  danger?: boolean;
  testId?: string;
}

export interface MenuAt {
  x: number;
  y: number;
  items: MenuItem[];
}

export function ContextMenu({ menu, onClose }: { menu: MenuAt; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>("button")?.focus();
    const away = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) onClose();
    };
    window.addEventListener("mousedown", away);
    return () => window.removeEventListener("mousedown", away);
  }, [menu, onClose]);
  const onKey = (e: React.KeyboardEvent) => {
    const items = Array.from(ref.current?.querySelectorAll<HTMLButtonElement>("button") ?? []);
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      e.stopPropagation();
      items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length]?.focus();
    }
  };
  // Kept inside the window.
  const x = Math.min(menu.x, window.innerWidth - 200);
  const y = Math.min(menu.y, window.innerHeight - 40 * menu.items.length - 8);
  return (
    <div className="context-menu" role="menu" ref={ref} style={{ left: x, top: y }} onKeyDown={onKey} data-testid="context-menu">
      {menu.items.map((it) => (
        <button key={it.label} role="menuitem" className={it.danger ? "danger" : ""} data-testid={it.testId}
          onClick={() => { onClose(); it.run(); }}>
          {it.label}
        </button>
      ))}
    </div>
  );
}
