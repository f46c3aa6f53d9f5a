//! Support for postctl's end-to-end tests: fake servers of the networks postctl publishes
//! to, started in-process on 127.0.0.1 and inspected by the tests (see [`fakes`]).

pub mod fakes;
