//! The one confirmation dialog, driven by `useUi().ask`.
import { useUi } from "../stores/ui";
import { Modal } from "./Modal";

export function ConfirmDialog() {
  const confirm = useUi((s) => s.confirm);
  if (!confirm) return null;
  return (
    <Modal title={confirm.title} onClose={() => confirm.resolve(false)} onSubmit={() => confirm.resolve(true)} testId="confirm">
      <p>{confirm.body}</p>
      <footer className="modal-actions">
        <div className="spacer" />
        <button type="button" onClick={() => confirm.resolve(false)}>Cancel</button>
        <button type="submit" className={confirm.danger ? "danger primary" : "primary"} data-testid="confirm-ok">{confirm.confirmLabel}</button>
      </footer>
    </Modal>
  );
}
