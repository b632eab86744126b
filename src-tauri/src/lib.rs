//! switchyard-app: the Tauri shell. Owns the window, the app's folders and the commands; all
//! behaviour lives in switchyard-studio (and the nodes it runs, in switchyard-node).

mod commands;
pub mod footprint;
mod storage;

use std::sync::Arc;

use switchyard_studio::{Keychain, LocalInstances, Registry, Studio};
use tauri::{Emitter, Manager, RunEvent};
use tauri_plugin_store::StoreExt;


/// Emitted when the set or state of instances changed outside a command's answer.
pub const REGISTRY_CHANGED: &str = "registry-changed";

/// Log files kept (one a day).
const LOG_FILES_KEPT: usize = 7;

/// Logs to stderr and to a file a day in the app's log folder, the last `LOG_FILES_KEPT` kept.
/// `RUST_LOG` chooses what reaches stderr (default: info); the file keeps info and up.
fn start_logging(log_dir: &std::path::Path) -> std::result::Result<(), Box<dyn std::error::Error>> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    std::fs::create_dir_all(log_dir)?;
    let files = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("switchyard-studio")
        .filename_suffix("log")
        .max_log_files(LOG_FILES_KEPT)
        .build(log_dir)?;
    use tracing_subscriber::Layer;
    let stderr_filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // The file keeps info and up whatever RUST_LOG says for the terminal: it is what a bug
    // report attaches.
    let file_filter = tracing_subscriber::EnvFilter::new("info");
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(stderr_filter))
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(files).with_filter(file_filter))
        .try_init()?;
    Ok(())
}

fn setup(app: &mut tauri::App, settled: footprint::Settled) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let data = app.path().app_data_dir()?;
    std::fs::create_dir_all(&data)?;
    let log_dir = app.path().app_log_dir()?;
    if let Err(e) = start_logging(&log_dir) {
        eprintln!("switchyard-studio: no log file in {} ({e}); logging to stderr only", log_dir.display());
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), data = %data.display(), logs = %log_dir.display(), "Switchyard studio started");
    if settled.software_rendering {
        tracing::info!("no GPU render node: WebKit draws without compositing (WEBKIT_DISABLE_COMPOSITING_MODE=1)");
    }
    let store = app.store("instances.json")?;
    let first_launch = store.get("launched").is_none();
    store.set("launched", true);
    store.save()?;
    let registry = Registry::open(Box::new(storage::PluginStore { store }), Keychain::default())?;
    let exports = app.path().download_dir().unwrap_or_else(|_| data.join("exports")).join("switchyard");
    let studio = Arc::new(Studio::new(registry, LocalInstances::new(data.join("instances")), exports, data.join("topology.json")).with_log_dir(log_dir));
    app.manage(studio.clone());
    let handle = app.handle().clone();
    let launching = studio.clone();
    tauri::async_runtime::spawn(async move {
        launching.local.launch(&launching.registry, first_launch).await;
        let _ = handle.emit(REGISTRY_CHANGED, ());
    });
    watch_health(app.handle().clone(), studio);
    Ok(())
}

/// Health in time while the app runs: the studio looks at the cluster when the canvas does not,
/// and each alert that starts or ends is a desktop notification and a `health-changed` event.
fn watch_health(handle: tauri::AppHandle, studio: Arc<Studio>) {
    let stop = tokio_util::sync::CancellationToken::new();
    let mut alerts = studio.health_alerts();
    let watching = studio.clone();
    let until = stop.clone();
    tauri::async_runtime::spawn(async move { watching.health_watch(until).await });
    handle.manage(HealthStop(stop));
    tauri::async_runtime::spawn(async move {
        loop {
            let change = match alerts.recv().await {
                Ok(c) => c,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let (title, alert) = match &change {
                switchyard_studio::health::AlertChange::Started(a) => ("Replication alert", a),
                switchyard_studio::health::AlertChange::Ended(a) => ("Replication recovered", a),
            };
            // No notification service (a bare X server): the Health list still has it.
            let (title, body) = (title.to_string(), alert.words());
            let shown = tauri::async_runtime::spawn_blocking(move || notify_rust::Notification::new().appname("Switchyard").summary(&title).body(&body).show().map(drop)).await;
            if let Ok(Err(e)) = shown {
                tracing::info!("notification not shown ({e}): {}", alert.words());
            }
            let _ = handle.emit(HEALTH_CHANGED, ());
        }
    });
}

/// Stops the health watch when the app exits.
struct HealthStop(tokio_util::sync::CancellationToken);

/// Emitted when an alert started or ended.
pub const HEALTH_CHANGED: &str = "health-changed";

/// A second launch brings the running studio's window forward instead of opening another
/// (both would run the same local instances on the same data).
fn focus_main(app: &tauri::AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
    tracing::info!("a second launch was turned into focusing this window");
}

pub fn run(settled: footprint::Settled) {
    let app = tauri::Builder::default()
        // First: a second process exits here, before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| focus_main(app)))
        .plugin(tauri_plugin_window_state::Builder::new().build())
        .plugin(tauri_plugin_store::Builder::new().build())
        .setup(move |app| setup(app, settled))
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("switchyard-studio could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            // Local instances flush and close their databases before the process ends.
            handle.state::<HealthStop>().0.cancel();
            let studio = handle.state::<Arc<Studio>>().inner().clone();
            tauri::async_runtime::block_on(studio.local.stop_all());
        }
    });
}
