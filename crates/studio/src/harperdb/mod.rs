//! Everything the studio does only with HarperDB instances: their live tail over MQTT with the
//! component that exports tables to it (`tail`), and their links in HarperDB's own operations
//! (`links`). `instance::Instance` picks these for a HarperDB; nothing else asks the kind.

pub mod links;
pub mod tail;
