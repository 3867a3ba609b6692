//! The integration tests, one crate: one link of the library and its dependencies instead of
//! one per file. Each module is one area (its own doc says what it covers); `common` holds
//! the shared helpers (the binary, `TestExperiment`, `assert_same_files`, a loopback mock
//! server).

mod common;

mod analysis_report;
mod analysis_stats;
mod architecture;
mod cli;
mod cluster;
mod conditions;
mod diagnose;
mod engine_props;
mod engine_vectors;
mod independent_replay;
mod institutions;
mod llm_chaos;
mod llm_e2e;
mod llm_validity;
mod market;
mod mcp;
mod mock_coverage;
mod play;
mod play_network;
mod protocols;
mod rating;
mod remote;
mod snapshot;
mod story;
mod sweep;
