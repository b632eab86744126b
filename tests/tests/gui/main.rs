//! The studio end to end in its real window (Xvfb, tauri-driver, WebKitWebDriver, a real Secret
//! Service), one binary: a new user's journey (`studio`), the live tail (`tail`), the Cluster
//! canvas with Verify and Repair (`topology`), the factory scenario (`factory`) and HarperDB 4.7
//! from the studio (`harperdb`). Windows take turns (`StudioApp` holds one at a time).

mod factory;
mod harperdb;
mod install;
mod studio;
mod studio_sql;
mod tail;
mod topology;
