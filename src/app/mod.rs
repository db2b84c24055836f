//! Use cases: each takes what a caller parsed, owns the database work and what follows from
//! it, and answers a typed result. Web handlers and CLI commands parse, call one, and render.

pub mod forecast;
pub mod purge;
