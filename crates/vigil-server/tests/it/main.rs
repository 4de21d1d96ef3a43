//! In-process tests of the hub's HTTP API (router + SQLite store), including
//! the authorisation matrix.

mod authz;
mod oversight;
mod rest;
mod screening;
mod support;
mod taxii;
