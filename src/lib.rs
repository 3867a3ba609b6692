//! # fishbanks
//!
//! A harness for coordination experiments on a shared resource: six agents (scripted,
//! LLM-driven, or a mix) run fishing fleets on one ocean under John Sterman's and Dennis
//! Meadows' Fishbanks rules, while a pluggable protocol governs how they interact (none,
//! broadcast messages, negotiated quotas, a shared ledger). Many seeded replicates per
//! cell, identical prompts across conditions, every failure counted, bit-exact replays.
//!
//! ## Layout
//!
//! Data flows one way, top to bottom:
//!
//! - [`experiment`]: the TOML schema and its validation ([`experiment::config`]), the
//!   plan that expands the matrix into runs with stable ids ([`experiment::plan`]), the
//!   tokio runner that plays runs `jobs` at a time and writes them in plan order
//!   ([`experiment::runner`]), resuming, and the end-of-sweep summary.
//! - [`protocol`]: the coordination protocols as phases around the engine step, what each
//!   agent sees (the board), and the game loop of one run ([`protocol::play`]).
//! - [`agents`]: the [`agents::Agent`] trait (typed requests: message, proposal, vote,
//!   pledge, decision, report) and the scripted strategies.
//! - [`llm`]: LLM agents and the models behind them; the only module that talks HTTP.
//! - [`engine`]: the Fishbanks rules, pure and synchronous: one [`engine::step`] per year.
//!   Knows nothing of agents, protocols or files.
//! - [`record`]: the CSV rows, the event log and crash-safe writing.
//!
//! - [`analysis`]: reads recorded files only; statistics, tables, plots, reports.
//! - [`progress`]: the progress bar and JSON progress lines of the command line.
//!
//! The binary (`src/main.rs`, `src/cli.rs`) only parses arguments and calls these.

pub mod agents;
pub mod analysis;
pub mod cli;
pub mod engine;
pub mod experiment;
pub mod llm;
pub mod progress;
pub mod protocol;
pub mod record;
