//! Add or edit a remote instance: URL, credentials, TLS trust, and a connection test.
import { useState } from "react";
import { native, type InstanceInput, type InstanceSpec, type InstanceStatus, type Trust } from "../platform";
import { describeError, toastError, useUi } from "../stores/ui";
import { useInstances } from "../stores/instances";
import { Modal } from "../components/Modal";

interface Props {
  existing: InstanceSpec | null;
  /** Name and URL to start from (a peer seen on the canvas but not registered). */
  preset?: { name: string; url: string };
  keychainAvailable: boolean;
  onClose: () => void;
}

export function InstanceDialog({ existing, preset, keychainAvailable, onClose }: Props) {
  const [name, setName] = useState(existing?.name ?? preset?.name ?? "");
  const [url, setUrl] = useState(existing?.url ?? preset?.url ?? "http://127.0.0.1:9925");
  const [username, setUsername] = useState(existing?.username ?? "admin");
  const [password, setPassword] = useState("");
  const [tls, setTls] = useState<Trust>(existing?.tls ?? { mode: "system" });
  const [test, setTest] = useState<InstanceStatus | null>(null);
  const [testing, setTesting] = useState(false);
  const [saving, setSaving] = useState(false);
  const { toast } = useUi();
  const refresh = useInstances((s) => s.refresh);
  const probe = useInstances((s) => s.probe);
  const isLocal = existing?.kind === "local";

  const input = (): InstanceInput => ({ id: existing?.id, name, url, username, password: password || undefined, tls });

  const runTest = async () => {
    setTesting(true);
    setTest(null);
    try {
      setTest(await native.instance_test(input()));
    } catch (e) {
      toastError(e);
    } finally {
      setTesting(false);
    }
  };

  const save = async () => {
    setSaving(true);
    try {
      const spec = await native.instance_save(input());
      toast(existing ? `Saved ${spec.name}` : `Registered ${spec.name}`);
      await refresh();
      void probe(spec.id);
      onClose();
    } catch (e) {
      toastError(e);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal title={existing ? `Edit ${existing.name}` : "Register an instance"} onClose={onClose} onSubmit={save} testId="instance-dialog">
      {!keychainAvailable && !isLocal && (
        <p className="error-panel" role="alert" data-testid="no-keychain">
          No OS keychain is available, so passwords cannot be saved. Switchyard never writes them to disk in clear text; start a keychain (for example gnome-keyring) and try again.
        </p>
      )}
      <label className="form-row"><span>Name</span><input value={name} onChange={(e) => setName(e.target.value)} data-testid="instance-name" required /></label>
      {!isLocal && (
        <>
          <label className="form-row"><span>URL</span><input value={url} onChange={(e) => setUrl(e.target.value)} data-testid="instance-url" placeholder="http://host:9925" /></label>
          <label className="form-row"><span>User</span><input value={username} onChange={(e) => setUsername(e.target.value)} data-testid="instance-user" autoComplete="off" /></label>
          <label className="form-row">
            <span>Password</span>
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} data-testid="instance-password" autoComplete="off"
              placeholder={existing ? "unchanged (stored in the keychain)" : ""} />
          </label>
          {/^https:\/\//i.test(url.trim()) && <fieldset className="tls" data-testid="instance-tls">
            <legend>TLS (https://)</legend>
            <label className="inline"><input type="radio" checked={tls.mode === "system"} onChange={() => setTls({ mode: "system" })} /> system roots</label>
            <label className="inline"><input type="radio" checked={tls.mode === "ca"} onChange={() => setTls({ mode: "ca", pem: "" })} /> custom CA</label>
            <label className="inline"><input type="radio" checked={tls.mode === "pinned"} onChange={() => setTls({ mode: "pinned", fingerprint: test?.certificateFingerprint ?? "" })} /> pinned certificate</label>
            {tls.mode === "ca" && <textarea rows={4} placeholder="-----BEGIN CERTIFICATE-----" value={tls.pem} onChange={(e) => setTls({ mode: "ca", pem: e.target.value })} />}
            {tls.mode === "pinned" && <input placeholder="SHA-256 fingerprint AB:CD:…" value={tls.fingerprint} onChange={(e) => setTls({ mode: "pinned", fingerprint: e.target.value })} data-testid="instance-fingerprint" />}
          </fieldset>}
          {test && (
            <div className={test.online && !test.error ? "info-panel" : "error-panel"} role="status" data-testid="test-result">
              {test.online && !test.error
                ? `Connected: ${test.serverKind ?? "server"} ${test.version ?? ""}${test.nodeName ? ` (${test.nodeName})` : ""}, ${test.latencyMs?.toFixed(1)} ms`
                : describeError(test.error ?? { code: "internal", message: "no answer" })}
              {test.certificateFingerprint && (
                <div className="cert">
                  <p>The server presents a certificate that is not trusted. SHA-256 fingerprint:</p>
                  <code data-testid="cert-fingerprint">{test.certificateFingerprint}</code>
                  <p>
                    <button type="button" onClick={() => setTls({ mode: "pinned", fingerprint: test.certificateFingerprint! })} data-testid="trust-cert">
                      Trust this certificate
                    </button>{" "}
                    <small className="muted">only if it matches the fingerprint the server printed</small>
                  </p>
                </div>
              )}
            </div>
          )}
        </>
      )}
      <footer className="modal-actions">
        {!isLocal && <button type="button" onClick={() => void runTest()} disabled={testing} data-testid="test-connection">{testing ? "Testing…" : "Test connection"}</button>}
        <div className="spacer" />
        <button type="button" onClick={onClose}>Cancel</button>
        <button type="submit" className="primary" disabled={saving} data-testid="save-instance">{saving ? "Saving…" : "Save"}</button>
      </footer>
    </Modal>
  );
}
