//! Notifications: errors stay longer; some carry an action (Undo).
import { useUi } from "../stores/ui";

export function Toasts() {
  const { toasts, dismiss } = useUi();
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} role={t.kind === "error" ? "alert" : "status"} data-testid={`toast-${t.kind}`}>
          <span>{t.text}</span>
          {t.action && (
            <button onClick={() => { t.action!.run(); dismiss(t.id); }} data-testid="toast-action">{t.action.label}</button>
          )}
          <button className="close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
