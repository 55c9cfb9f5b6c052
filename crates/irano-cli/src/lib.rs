//! The `irano-eval` command's logic, as a library so that tests render exactly what
//! users see. `main.rs` only parses arguments and writes the collected output.

pub mod compact;
pub mod compare;
pub mod csv;
pub mod fmt;
pub mod json;
pub mod output;
pub mod progress;
pub mod render;
pub mod sdtm;
pub mod show;
pub mod stream;
pub mod testing;
