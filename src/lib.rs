//! # fishbanks
//!
//! A harness for coordination experiments on a shared resource: six agents (scripted,
//! LLM-driven, or a mix) run fishing fleets on one ocean under John Sterman's and Dennis
//! Meadows' Fishbanks rules, while a pluggable protocol governs how they interact (none,
//! broadcast messages, negotiated quotas, a shared ledger, A2A, REP, sanctions, with
//! token-matched controls). Many seeded replicates per cell on common random numbers,
//! identical prompts across conditions, every failure counted, bit-exact replays.
//!
//! ## Layout
//!
//! Data flows one way, and imports point one way (checked by `tests/it/architecture.rs`):
//! `experiment → game → protocol → agents / llm → record / engine`; `seat → llm`;
//! `play → experiment / seat / analysis`; `analysis` reads only `record`'s files.
//!
//! - [`experiment`]: the TOML file as written ([`experiment::schema`]), checked and typed
//!   ([`experiment::resolve`]), errors located in the text ([`experiment::span`]); the
//!   plan that expands the matrix into runs with stable ids; the tokio runner that plays
//!   runs `jobs` at a time and hands them to the sinks in plan order; resume, merge, the
//!   dry-run estimate and the summary.
//! - [`game`]: the loop of one run ([`game::play`]): years, protocol phases,
//!   observations, the engine step, the run's record and status.
//! - [`protocol`]: one file per coordination protocol, each owning its switches, its
//!   requests, its prompt section and what it publishes; shared talk rounds, intention
//!   rounds, social memory and communication budgets.
//! - [`agents`]: the [`agents::Agent`] trait (one request/response pair) and the
//!   scripted strategies.
//! - [`llm`]: LLM agents, providers, remote agents (`llm::remote`: JSON and A2A), the
//!   record/replay cache, text embeddings; the only module that calls model servers or
//!   agents over HTTP.
//! - [`seat`]: the seat server of `fishbanks play` (a person in a team's seat, asked
//!   what an LLM there is asked); the only module that serves pages.
//! - [`play`]: `fishbanks play` itself: which game, whether the results hold it already,
//!   the seat server around the runner, the stop and resume, the replay.
//! - [`engine`]: the Fishbanks rules, pure and synchronous: one [`engine::step`] per year.
//! - [`record`]: rows, events, the typed manifest, the run lifecycle sinks
//!   ([`record::RunSink`]) and crash-safe writing.
//! - [`analysis`]: reads recorded files only; statistics, tables, plots, reports, and
//!   the socialisation diagnostics ([`analysis::diagnose`]).
//! - [`rating`]: `fishbanks rate`: a frozen battery of games for each candidate agent,
//!   each paired with a reference player's in the same seat, and the leaderboard; planned
//!   as an experiment and scored from its recorded files.
//! - `testkit` (cargo feature `testkit`): the fault-injecting mock server and the crash
//!   hook used by tests, benchmarks and `fishbanks mock-server`.
//!
//! The binary (`src/main.rs`, `src/cli/`) parses arguments, shows progress and maps
//! errors to exit codes; it holds no logic of its own.
//!
//! ## Public API
//!
//! What a program driving the harness uses: [`experiment::Experiment`] (load and plan a
//! file), [`experiment::run_with`] (play a sweep, with [`experiment::Hooks`] for a stop
//! signal and extra [`record::RunSink`]s), [`experiment::merge::merge`],
//! [`analysis::report`], [`analysis::diagnose::diagnose`], and the building blocks of a custom study:
//! [`engine::step`], [`game::play`], [`protocol::ProtocolSpec`], [`agents::Agent`].

pub mod agents;
pub mod analysis;
pub mod engine;
pub mod experiment;
pub mod game;
pub mod llm;
pub mod play;
pub mod protocol;
pub mod question;
pub mod rating;
pub mod record;
pub mod seat;
pub mod spec;
#[cfg(feature = "testkit")]
pub mod testkit;
