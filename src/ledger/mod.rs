//! Markdown ledgers merged as records. See `merge`.
