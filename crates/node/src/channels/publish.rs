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
                    Ok(d) => self.reply(cid, Some(&sc::PublishReply { deleted_hashes: Some(d.deleted), skipped_hashes: d.skipped, ..Default::default() })),
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
                    let mut reply = sc::PublishReply { skipped_hashes: w.skipped, ..Default::default() };
                    *match mode {
                        WriteMode::Insert => &mut reply.inserted_hashes,
                        WriteMode::Update => &mut reply.update_hashes,
                        WriteMode::Upsert => &mut reply.upserted_hashes,
                    } = Some(w.written);
                    sc::response(cid, Some(&reply))
                }
                Ok(Err(e)) => sc::failure(cid, &publish_error(&e)),
                Err(_) => sc::failure(cid, &error_object("PublishError", "the node shut down before the publish was written")),
            };
            let _ = out.send(Out::Text(frame)).await;
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

fn publish_error(e: &Error) -> ScError {
    let name = match e {
        Error::BadRequest(_) => "InvalidArgumentsError",
        _ => "PublishError",
    };
    error_object(name, e.to_string())
}
