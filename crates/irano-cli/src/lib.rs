//! The `irano-eval` command's logic, as a library so that tests render exactly what
//! users see. `main.rs` only parses arguments and writes the collected output.

pub mod compare;
pub mod fmt;
pub mod render;
pub mod sdtm;
pub mod show;
pub mod testing;
