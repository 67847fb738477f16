//! sei-sandbox placeholder
