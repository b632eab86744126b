//! `#publish`: a write to the channel's table, pipelined per socket.

use super::*;

impl Conn {
    /// A publish is a write to the channel's table; subscribers then receive the committed
    /// transaction like any other write. Its data is a record or an array of records (an
    /// insert), or a transaction in the shape subscribers receive: `{"operation": "insert" |
    /// "update" | "upsert", "records": [...]}` or `{"operation": "delete", "ids": [...]}`, each
    /// needing its own permission. Publishes are pipelined: the socket goes on reading while
    /// earlier ones commit (in order, sharing group commits), up to PUBLISHES_IN_FLIGHT; past
    /// that it stops reading until one is durable.
    pub(super) async fn publish(&mut self, cid: Option<i64>, data: &Value) {
        let write = match Published::from_data(data.get("data")) {
            Ok(w) => w,
            Err(msg) => return self.fail(cid, error_object("InvalidActionError", msg)),
        };
        let (channel, who) = match self.channel_access(data, write.needs(), "publish") {
            Ok(x) => x,
            Err(e) => return self.fail(cid, e),
        };
        let (mode, records) = match write {
            Published::Write(mode, records) => (mode, records),
            Published::Delete(ids) => {
                // Deletes take the writer directly: wait until every earlier publish of this
                // socket is committed, so they apply in the order sent.
                let Ok(all) = self.publishing.clone().acquire_many_owned(PUBLISHES_IN_FLIGHT as u32).await else { return };
                let answer = self.node.store.delete(&channel.database, &channel.table, &ids, Some(&who.username)).await;
                drop(all);
                return match answer {
                    Ok(d) => self.reply(cid, Some(json!({ "deleted_hashes": d.deleted, "skipped_hashes": d.skipped }))),
                    Err(e) => self.fail(cid, publish_error(&e)),
                };
            }
        };
        let Ok(permit) = self.publishing.clone().acquire_owned().await else { return };
        let done = match self.node.store.submit(&channel.database, &channel.table, mode, records, Some(&who.username)) {
            Ok(done) => done,
            Err(e) => return self.fail(cid, publish_error(&e)),
        };
        let out = self.out.clone();
        self.node.tasks.spawn(async move {
            let answer = done.await;
            drop(permit);
            let Some(cid) = cid else { return };
            let frame = match answer {
                Ok(Ok(w)) => {
                    let written = match mode {
                        WriteMode::Insert => "inserted_hashes",
                        WriteMode::Update => "update_hashes",
                        WriteMode::Upsert => "upserted_hashes",
                    };
                    json!({ "rid": cid, "data": { written: w.written, "skipped_hashes": w.skipped } })
                }
                Ok(Err(e)) => json!({ "rid": cid, "error": publish_error(&e) }),
                Err(_) => json!({ "rid": cid, "error": error_object("PublishError", "the node shut down before the publish was written") }),
            };
            let _ = out.send(Out::Text(frame.to_string())).await;
        });
    }
}

/// What a `#publish` asks to write.
enum Published {
    Write(WriteMode, Vec<Value>),
    Delete(Vec<Value>),
}

impl Published {
    pub(super) fn from_data(data: Option<&Value>) -> Result<Published, String> {
        let plain = "publish data must be a record object, an array of records, or a transaction \
                     {\"operation\", \"records\"} / {\"operation\": \"delete\", \"ids\"}";
        match data {
            Some(Value::Array(items)) => Ok(Published::Write(WriteMode::Insert, items.clone())),
            Some(Value::Object(o)) => {
                let mode = match o.get("operation").and_then(Value::as_str) {
                    Some("insert") => Some(WriteMode::Insert),
                    Some("update") => Some(WriteMode::Update),
                    Some("upsert") => Some(WriteMode::Upsert),
                    Some("delete") => None,
                    // Not a transaction: a plain record (which may have such an attribute).
                    _ => return Ok(Published::Write(WriteMode::Insert, vec![Value::Object(o.clone())])),
                };
                match (mode, o.get("records"), o.get("ids")) {
                    (Some(mode), Some(Value::Array(records)), _) => Ok(Published::Write(mode, records.clone())),
                    (None, _, Some(Value::Array(ids))) => Ok(Published::Delete(ids.clone())),
                    (Some(_), ..) => Err("a transaction with operation insert, update or upsert needs 'records': an array of records".into()),
                    (None, ..) => Err("a transaction with operation delete needs 'ids': an array of primary keys".into()),
                }
            }
            _ => Err(plain.into()),
        }
    }

    /// The permissions the write needs on the channel's table.
    pub(super) fn needs(&self) -> &'static [Access] {
        match self {
            Published::Write(WriteMode::Insert, _) => &[Access::Insert],
            Published::Write(WriteMode::Update, _) => &[Access::Update],
            Published::Write(WriteMode::Upsert, _) => &[Access::Insert, Access::Update],
            Published::Delete(_) => &[Access::Delete],
        }
    }
}

fn publish_error(e: &Error) -> Value {
    let name = match e {
        Error::BadRequest(_) => "InvalidArgumentsError",
        _ => "PublishError",
    };
    error_object(name, e.to_string())
}
