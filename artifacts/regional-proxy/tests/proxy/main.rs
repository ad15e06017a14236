//! Integration tests of the regional proxy: real HTTP on loopback, a fake
//! HealthImaging that recomputes every SigV4 signature, a JWKS server.
//! One test binary, modules below.

mod auth;
mod memory;
mod origin;
mod routes;
mod support;
