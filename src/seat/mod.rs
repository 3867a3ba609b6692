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
//!   waits for the answer or the timeout (not before the facilitator starts the game);
//!   what the game applied when a question fell back; the seats' views and tokens.
//! - [`server`]: the routes (axum): the join page, seat pages, their state and answers,
//!   the facilitator's screen (behind a cookie) and its controls, the projector view.
//! - [`room`]: what routes and guards share: the [`Classroom`], the cookies, the rules in
//!   words.
//! - [`guard`]: what every request passes first: the Host, credentials and the reserve,
//!   the join-code throttle, the origin of a POST and the facilitator's CSRF token, the
//!   body's deadline and size; [`throttle`]: the join-code throttle.
//! - [`accept`]: the accept loop: connections per client address, the reserve for
//!   credential holders, eviction of long-silent connections only, header deadlines,
//!   TLS.
//! - [`tls`]: HTTPS with a given certificate (`--tls-cert`, `--tls-key`).
//! - [`mcp`]: MCP seats: the Model Context Protocol endpoint (`next_question`, `answer`)
//!   an agent host plays `kind = "mcp"` seats through, each client's seats asked through
//!   a desk of their own (started at once: no facilitator's start gate), served by the
//!   same accept loop.
//! - [`net`]: the addresses a classroom can reach the server at.
//! - [`words`]: questions and fallbacks in a person's words.
//! - `pages`: the pages, from the HTML, CSS and JavaScript files in `src/seat/web/` (no
//!   data inside; texts are written with `textContent`, never as HTML).
//! - `respond`: the kinds of response (a page with its nonce, a document, "nothing
//!   here").
//! - `qr`: the join address as a QR code.

pub mod accept;
pub mod desk;
pub mod guard;
pub mod mcp;
pub mod net;
mod pages;
mod qr;
mod respond;
pub mod room;
pub mod server;
pub mod throttle;
pub mod tls;
pub mod words;

pub use desk::{
    Desk, DeskSetup, Ending, Notice, NoticeWhy, Roster, SeaFacts, SeatStatus, SeatView, Secrets,
    Tally, TrueYear,
};
pub use room::{Classroom, Handout};
