//! Against a real HarperDB 4.7 from npm (installed by `make test`), one binary: the Operations
//! API transcript both servers answer (`conformance`) and the studio's adapter for HarperDB:
//! status, browse, forms, SQL, links, the MQTT tail and Verify by scanning (`studio`).

mod conformance;
mod studio;
