//! About Switchyard: the version, and where the studio keeps its data, its logs and its exports.
import { useEffect, useState } from "react";
import { asErrorBody, native, type About } from "../platform";
import { describeError } from "../stores/ui";
import { Modal } from "../components/Modal";

export function AboutDialog({ onClose }: { onClose: () => void }) {
  const [about, setAbout] = useState<About | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    native.app_about().then(setAbout, setError);
  }, []);
  const row = (label: string, value: string, testId: string) => (
    <div className="form-row"><span>{label}</span><code className="about-path" data-testid={testId}>{value}</code></div>
  );
  return (
    <Modal title="About Switchyard" onClose={onClose} testId="about-dialog">
      {error !== null && <div className="error-panel" role="alert">{describeError(asErrorBody(error))}</div>}
      {about && (
        <>
          <p>A desktop studio for replicated databases: switchyard-node and HarperDB clusters.</p>
          {row("Version", about.version, "about-version")}
          {row("Data", about.dataDir, "about-data-dir")}
          {row("Logs", about.logDir, "about-log-dir")}
          {row("Exports", about.exportsDir, "about-exports-dir")}
          <p className="muted">Logs rotate daily; the last 7 days are kept. The command line is <code>switchyard</code> (<code>switchyard --help</code>).</p>
        </>
      )}
      <footer className="modal-actions"><div className="spacer" /><button type="button" className="primary" onClick={onClose} data-testid="about-close">Close</button></footer>
    </Modal>
  );
}
