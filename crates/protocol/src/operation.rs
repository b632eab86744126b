//! The Operations API request: one enum, tagged by its `operation` field, with HarperDB's legacy
//! names as aliases. The node dispatches over it and the clients send it.
//!
//! Reading a request takes the tag out of the object and reads the rest straight into the
//! variant's struct: no intermediate copy of the body (serde's derived internally tagged enums
//! buffer the whole object first, which would double the cost of an insert's records).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::ops::*;

/// Why a body is not an operation.
#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    #[error("Request body must include an 'operation' property.")]
    Missing,
    #[error("Operation '{0}' not found")]
    Unknown(String),
    /// The operation is known but its fields are not what it takes.
    #[error("{0}")]
    Invalid(serde_json::Error),
}

/// A request without fields (`describe_all`, `list_users`, …): extra fields are ignored, as
/// HarperDB does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoFields {}

/// cluster_read: one read operation run on this node and on every peer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterRead {
    pub search: Box<Operation>,
}

macro_rules! operations {
    ($( $(#[$doc:meta])* $variant:ident($body:ty) = $name:literal $(| $alias:literal)* ;)*) => {
        /// One Operations API request.
        #[derive(Debug, Clone)]
        pub enum Operation {
            $( $(#[$doc])* $variant($body), )*
        }

        impl Operation {
            /// Every operation name this API answers, aliases included.
            pub const NAMES: &'static [&'static str] = &[$($name, $($alias,)*)*];

            /// The operation's canonical name (the one sent on the wire).
            pub fn name(&self) -> &'static str {
                match self {
                    $( Operation::$variant(_) => $name, )*
                }
            }

            /// Reads a request body: the `operation` tag picks the variant, the other fields
            /// are its struct.
            pub fn from_value(mut value: Value) -> Result<Operation, OperationError> {
                let name = match value.as_object_mut().and_then(|o| o.remove("operation")) {
                    Some(Value::String(name)) => name,
                    _ => return Err(OperationError::Missing),
                };
                match name.as_str() {
                    $( $name $(| $alias)* => serde_json::from_value(value).map(Operation::$variant).map_err(OperationError::Invalid), )*
                    _ => Err(OperationError::Unknown(name)),
                }
            }
        }

        impl Serialize for Operation {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Operation::$variant(body) => Tagged { operation: $name, body }.serialize(s), )*
                }
            }
        }
    };
}

/// `{"operation": name, …body's fields}` on the wire.
#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    operation: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Operation::from_value(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

operations! {
    CreateDatabase(DatabaseRef) = "create_database" | "create_schema";
    DropDatabase(DatabaseRef) = "drop_database" | "drop_schema";
    DescribeDatabase(DatabaseRef) = "describe_database" | "describe_schema";
    DescribeAll(NoFields) = "describe_all";
    CreateTable(CreateTable) = "create_table";
    DropTable(TableRef) = "drop_table";
    DescribeTable(TableRef) = "describe_table";
    CreateAttribute(AttributeRef) = "create_attribute";
    DropAttribute(AttributeRef) = "drop_attribute";
    Insert(WriteRecords) = "insert";
    Update(WriteRecords) = "update";
    Upsert(WriteRecords) = "upsert";
    Delete(DeleteRecords) = "delete";
    SearchById(SearchById) = "search_by_id" | "search_by_hash";
    SearchByValue(SearchByValue) = "search_by_value";
    SearchByConditions(SearchByConditions) = "search_by_conditions";
    Sql(Sql) = "sql";
    CsvDataLoad(CsvDataLoad) = "csv_data_load";
    GetJob(JobRef) = "get_job";
    AddRole(RoleDef) = "add_role";
    AlterRole(RoleDef) = "alter_role";
    DropRole(RoleRef) = "drop_role";
    ListRoles(NoFields) = "list_roles";
    AddUser(AddUser) = "add_user";
    AlterUser(AlterUser) = "alter_user";
    DropUser(UserRef) = "drop_user";
    ListUsers(NoFields) = "list_users";
    UserInfo(NoFields) = "user_info";
    CreateAuthenticationTokens(Credentials) = "create_authentication_tokens";
    Login(Credentials) = "login";
    RefreshOperationToken(NoFields) = "refresh_operation_token";
    SystemInformation(SystemInformation) = "system_information";
    RegistrationInfo(NoFields) = "registration_info";
    ReadLog(ReadLog) = "read_log";
    ReadTransactionLog(ReadTransactionLog) = "read_transaction_log";
    ClusterStatus(NoFields) = "cluster_status";
    AddNode(AddNode) = "add_node";
    UpdateNode(AddNode) = "update_node";
    RemoveNode(RemoveNode) = "remove_node";
    ClusterRead(ClusterRead) = "cluster_read";
    TableDigest(TableDigestRequest) = "table_digest";
    TableDigestRecords(DigestRecordsRequest) = "table_digest_records";
    RecordStates(RecordStatesRequest) = "record_states";
    RepairRecords(RepairRecordsRequest) = "repair_records";
}

impl Operation {
    /// Whether the operation only reads (what cluster_read may fan out).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Operation::SearchById(_)
                | Operation::SearchByValue(_)
                | Operation::SearchByConditions(_)
                | Operation::DescribeTable(_)
                | Operation::DescribeAll(_)
                | Operation::Sql(_)
                | Operation::TableDigest(_)
                | Operation::TableDigestRecords(_)
                | Operation::RecordStates(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn aliases_read_as_their_operation_and_are_sent_by_the_canonical_name() {
        let op = Operation::from_value(json!({"operation": "search_by_hash", "schema": "dev", "table": "dog", "hash_values": [1], "get_attributes": ["*"]})).unwrap();
        let Operation::SearchById(s) = &op else { panic!("{op:?}") };
        assert_eq!((s.database.as_str(), s.ids.len()), ("dev", 1));
        let sent = serde_json::to_value(&op).unwrap();
        assert_eq!(sent["operation"], "search_by_id");
        assert_eq!(sent["database"], "dev");
        assert_eq!(serde_json::to_value(Operation::DescribeAll(NoFields {})).unwrap(), json!({"operation": "describe_all"}));
    }

    #[test]
    fn a_body_without_a_known_operation_is_refused_by_kind() {
        assert!(matches!(Operation::from_value(json!({"table": "x"})), Err(OperationError::Missing)));
        assert!(matches!(Operation::from_value(json!({"operation": 3})), Err(OperationError::Missing)));
        assert!(matches!(Operation::from_value(json!([1])), Err(OperationError::Missing)));
        assert!(matches!(Operation::from_value(json!({"operation": "nope"})), Err(OperationError::Unknown(n)) if n == "nope"));
        assert!(matches!(Operation::from_value(json!({"operation": "insert", "table": "t"})), Err(OperationError::Invalid(_))));
    }

    #[test]
    fn every_name_reads_back() {
        for name in Operation::NAMES {
            match Operation::from_value(json!({"operation": name})) {
                Ok(op) => assert!(Operation::NAMES.contains(&op.name())),
                Err(OperationError::Invalid(_)) => {}
                Err(e) => panic!("{name}: {e}"),
            }
        }
    }

    #[test]
    fn cluster_read_carries_a_typed_read() {
        let op = Operation::from_value(json!({"operation": "cluster_read", "search": {"operation": "sql", "sql": "SELECT 1"}})).unwrap();
        let Operation::ClusterRead(r) = op else { panic!() };
        assert!(r.search.is_read());
        assert!(Operation::from_value(json!({"operation": "cluster_read", "search": {"operation": "nope"}})).is_err());
    }
}
