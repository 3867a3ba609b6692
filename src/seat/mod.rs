//! The seat server of `fishbanks play`: a person takes a team's seat in a browser, next
//! to LLM and scripted teams, and is asked what an LLM in that seat is asked; and the
//! MCP endpoint of `fishbanks run`, through which an agent host plays MCP seats.
//!
//! A person's seat is an LLM agent whose model is the [`Desk`]: the same prompt, schema,
//! validation, re-asks and fallback, recorded in the same cache (so a played game
//! replays bit-identically with nobody at the desk). Only this module serves pages.
//!
//! # Layout
//!
//! - [`desk`]: [`Desk`], the `ChatModel` that puts a question on its seat's page and
//!   waits for the answer or the timeout; the seats' views and tokens.
//! - [`server`]: the routes (axum) and the accept loop (a connection cap, header
//!   timeouts, security headers): the join page, seat pages, their state and answers,
//!   the facilitator's screen and its controls.
//! - [`mcp`]: MCP seats: the Model Context Protocol endpoint (`next_question`, `answer`)
//!   an agent host plays `kind = "mcp"` seats through, each client's seats asked through
//!   a desk of their own.
//! - [`net`]: the addresses a classroom can reach the server at.
//! - `pages`: the pages' HTML, CSS and JavaScript (no data inside; texts are written
//!   with `textContent`, never as HTML).
//! - `qr`: the join address as a QR code.

pub mod desk;
pub mod mcp;
pub mod net;
mod pages;
mod qr;
pub mod server;

pub use desk::{Desk, Ending, Roster, SeaFacts, SeatStatus, SeatView, Secrets, TrueYear};
pub use server::Classroom;
