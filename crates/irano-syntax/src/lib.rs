//! The irano rule language: grammar and abstract syntax tree.
//!
//! [`parse`] reads one rule file into an [`ast::File`] whose nodes carry byte
//! [`ast::Span`]s; the checker (`irano-check`) resolves names, types and units.
//!
//! ```
//! let file = irano_syntax::parse(r#"criterion "x" { let a = 1 + 2 * 3 }"#).unwrap();
//! assert_eq!(file.id.value, "x");
//! ```

// `ast` is the contract with the checker; its layout is kept as designed.
#[allow(clippy::large_enum_variant)]
pub mod ast;
mod error;
mod parser;
mod prescan;

pub use error::{SyntaxError, SyntaxErrorKind};

/// Parses the text of one rule file.
///
/// Nesting of brackets, `if` and `match` deeper than 64 levels, and expression trees
/// deeper than 256 levels, are refused with `syntax::too_deep` before they can
/// exhaust the stack. On error, every error found is returned (at least one), in
/// source order; the errors do not hold the source text.
pub fn parse(source: &str) -> Result<ast::File, Vec<SyntaxError>> {
    prescan::prescan(source).map_err(|e| vec![e])?;
    parser::parse_file(source)
}
