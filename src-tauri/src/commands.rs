//! IPC commands: one-line adapters over switchyard-client's studio API and the local supervisor.

use std::sync::Arc;

use serde_json::Value;
use switchyard_client::studio::{
    InstanceInput, InstanceSpec, InstanceStatus, LocalCredentials, LocalState, NewTable, Page, PageRequest, RegistryView, SqlResult, TreeDatabase, TreeTable, WriteMode, WriteReport,
};
use tauri::State;

use crate::error::Result;
use crate::Studio;

type S<'a> = State<'a, Arc<Studio>>;

#[tauri::command]
pub fn registry_view(s: S<'_>) -> Result<RegistryView> {
    Ok(s.registry.view()?)
}

#[tauri::command]
pub fn instance_save(s: S<'_>, input: InstanceInput) -> Result<InstanceSpec> {
    Ok(s.registry.save_remote(input)?)
}

#[tauri::command]
pub async fn instance_remove(s: S<'_>, id: String) -> Result<()> {
    s.remove(&id).await
}

#[tauri::command]
pub async fn instance_test(s: S<'_>, input: InstanceInput) -> Result<InstanceStatus> {
    Ok(s.registry.test(input).await?)
}

#[tauri::command]
pub async fn instance_status(s: S<'_>, id: String) -> Result<InstanceStatus> {
    Ok(s.registry.status(&id).await?)
}

#[tauri::command]
pub async fn local_create(s: S<'_>, name: String) -> Result<InstanceSpec> {
    s.local.create(&s.registry, &name).await
}

#[tauri::command]
pub async fn local_cluster(s: S<'_>) -> Result<Vec<InstanceSpec>> {
    s.local.create_cluster(&s.registry).await
}

#[tauri::command]
pub async fn local_start(s: S<'_>, id: String) -> Result<LocalState> {
    s.local.start(&s.registry, &id).await
}

#[tauri::command]
pub async fn local_stop(s: S<'_>, id: String) -> Result<LocalState> {
    s.local.stop(&id).await
}

#[tauri::command]
pub async fn local_states(s: S<'_>) -> Result<Vec<LocalState>> {
    s.local.states(&s.registry).await
}

#[tauri::command]
pub fn local_credentials(s: S<'_>, id: String) -> Result<LocalCredentials> {
    Ok(s.registry.local_credentials(&id)?)
}

#[tauri::command]
pub async fn tree(s: S<'_>, id: String) -> Result<Vec<TreeDatabase>> {
    Ok(s.registry.client(&id)?.tree().await?)
}

#[tauri::command]
pub async fn table_info(s: S<'_>, id: String, database: String, table: String) -> Result<TreeTable> {
    Ok(s.registry.client(&id)?.table_info(&database, &table).await?)
}

#[tauri::command]
pub async fn page(s: S<'_>, id: String, request: PageRequest) -> Result<Page> {
    Ok(s.registry.client(&id)?.page(&request).await?)
}

#[tauri::command]
pub async fn write_records(s: S<'_>, id: String, database: String, table: String, mode: WriteMode, records: Vec<Value>) -> Result<WriteReport> {
    Ok(s.registry.client(&id)?.write_records(&database, &table, mode, records).await?)
}

#[tauri::command]
pub async fn delete_records(s: S<'_>, id: String, database: String, table: String, keys: Vec<Value>) -> Result<WriteReport> {
    Ok(s.registry.client(&id)?.delete_records(&database, &table, keys).await?)
}

#[tauri::command]
pub async fn run_sql(s: S<'_>, id: String, sql: String) -> Result<SqlResult> {
    Ok(s.registry.client(&id)?.run_sql(&sql).await?)
}

#[tauri::command]
pub async fn create_database(s: S<'_>, id: String, database: String) -> Result<String> {
    Ok(s.registry.client(&id)?.new_database(&database).await?)
}

#[tauri::command]
pub async fn drop_database(s: S<'_>, id: String, database: String) -> Result<String> {
    Ok(s.registry.client(&id)?.drop_database(&database).await?)
}

#[tauri::command]
pub async fn create_table(s: S<'_>, id: String, table: NewTable) -> Result<String> {
    Ok(s.registry.client(&id)?.new_table(&table).await?)
}

#[tauri::command]
pub async fn drop_table(s: S<'_>, id: String, database: String, table: String) -> Result<String> {
    Ok(s.registry.client(&id)?.drop_table(&database, &table).await?)
}

#[tauri::command]
pub fn export_file(s: S<'_>, name: String, contents: String) -> Result<String> {
    s.export(&name, &contents)
}
