//! The in-process mock model answers everything the harness can ask: every protocol kind
//! with every switch value (directed messages, talk rounds, proposals, votes, pledges,
//! reports, fines, elections, private information, a regulator's cap), the ship market,
//! generations' lessons and the consensus probe, each of its five policies in a seat,
//! with no fallback. A mock that cannot answer a question makes its runs `invalid` and
//! every example built on it meaningless, while `validate` says ok.

use crate::common::{run_experiment, Table, TestExperiment};
use fishbanks::protocol::ProtocolSpec;

/// Every protocol variant played, as (name, kind, switches): together they set every
/// switch of every kind to each of its words and to a non-default number.
const VARIANTS: &[(&str, &str, &str)] = &[
    ("none", "none", ""),
    (
        "broadcast-directed",
        "broadcast",
        "rounds = 2\norder = \"sequential\"\nmax_message_chars = 24\nboard_memory_years = 2\ndirected = true",
    ),
    ("broadcast-chars", "broadcast", "budget_chars = 40"),
    ("broadcast-tokens", "broadcast", "budget_tokens = 12"),
    (
        "broadcast-matched",
        "broadcast",
        "match_tokens_of = \"broadcast-chars\"",
    ),
    (
        "quota-talk",
        "quota",
        "every_years = 2\ntalk_rounds = 1\nmax_message_chars = 30\napproval = 0.9\nallocation = \"fleet\"\nenforcement = \"advisory\"\non_reject = \"previous\"",
    ),
    (
        "quota-binding",
        "quota",
        "enforcement = \"binding\"\nallocation = \"equal\"\non_reject = \"none\"\ntalk_rounds = 1\nbudget_tokens = 10",
    ),
    ("ledger-self", "ledger", "reporting = \"self\"\nwindow = 2"),
    ("ledger-truthful", "ledger", "reporting = \"truthful\""),
    (
        "a2a",
        "a2a",
        "rounds = 2\nreasoning_chars = 40\nboard_memory_years = 1\nbudget_tokens = 30",
    ),
    (
        "rep",
        "rep",
        "rounds = 2\ndelta = 0.2\nreasoning_chars = 0\nconsensus = true\nboard_memory_years = 1",
    ),
    ("rep-plain", "rep", "consensus = false\nmatch_tokens_of = \"a2a\""),
    (
        "sanctions",
        "sanctions",
        "cost = 10\nfine = 50\nmax_targets = 1\ntalk_rounds = 1\nmax_message_chars = 50\nbudget_chars = 60",
    ),
    (
        "leader-propose",
        "leader",
        "candidates = 2\nagenda_chars = 60\nvote = \"proportional\"\nself_vote = true\nterm_years = 2\npowers = \"propose\"\napproval = 0.7\nallocation = \"fleet\"\nenforcement = \"binding\"\nprivate_information = true\nleader_reports = true\ndisinformation = true",
    ),
    (
        "leader-decree",
        "leader",
        "candidates = \"all\"\nvote = \"plurality\"\npowers = \"decree\"\nenforcement = \"advisory\"\nleader_reports = true\nbudget_chars = 80",
    ),
    (
        "regulator-cap",
        "regulator",
        "rule = \"regeneration\"\nallocation = \"fleet\"\nenforcement = \"binding\"\ntalk_rounds = 1\nmax_message_chars = 40",
    ),
    (
        "regulator-advice",
        "regulator",
        "rule = \"surplus\"\nsurplus_share = 0.3\nenforcement = \"advisory\"\ntalk_rounds = 1\nbudget_tokens = 15",
    ),
];

/// The protocol kinds, as the error for an unknown kind lists them.
fn kinds() -> Vec<String> {
    let table: toml::Table = toml::from_str("kind = \"no-such-kind\"").unwrap();
    let message = ProtocolSpec::from_table(&table).unwrap_err().message;
    let list = message
        .split("expected one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("no kind list in {message}"));
    list.split(", ")
        .map(|k| k.trim_matches(|c: char| c == '`' || c == ' ').to_string())
        .collect()
}

/// The communication budget switches, shared by every kind that publishes text.
const BUDGET: [&str; 3] = ["budget_chars", "budget_tokens", "match_tokens_of"];

/// The switches of a kind, as its default spec shows them (without the budget), and
/// whether it takes the budget switches.
fn switches(kind: &str) -> (Vec<String>, bool) {
    let table: toml::Table = toml::from_str(&format!("kind = \"{kind}\"")).unwrap();
    let spec = ProtocolSpec::from_table(&table).unwrap();
    let own = serde_json::to_value(&spec)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "kind")
        .cloned()
        .collect();
    (own, spec.budget().is_some())
}

fn sets(switches: &str, switch: &str) -> bool {
    switches
        .lines()
        .any(|l| l.starts_with(&format!("{switch} ")))
}

#[test]
fn every_protocol_kind_and_switch_is_played() {
    for kind in kinds() {
        let played: Vec<&(&str, &str, &str)> =
            VARIANTS.iter().filter(|(_, k, _)| *k == kind).collect();
        assert!(!played.is_empty(), "no variant plays kind `{kind}`");
        let (own, talks) = switches(&kind);
        for switch in own {
            assert!(
                played.iter().any(|(_, _, s)| sets(s, &switch)),
                "no variant of `{kind}` sets `{switch}`"
            );
        }
        // Every kind that talks is played under a budget.
        assert!(
            !talks
                || played
                    .iter()
                    .any(|(_, _, s)| BUDGET.iter().any(|b| sets(s, b))),
            "no variant of `{kind}` has a communication budget"
        );
    }
    for switch in BUDGET {
        assert!(VARIANTS.iter().any(|(_, _, s)| sets(s, switch)), "{switch}");
    }
}

#[test]
fn mock_seats_answer_every_question_without_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let mut exp = TestExperiment::new("mock-coverage", 4, 2)
        .line("probe_every = 2")
        .section(
            "[game.market]\nauction_ships = 2\ntrades = true\ntrade_rounds = 1\nmax_price = 2000",
        )
        .section("[generations]\ncount = 2\ninherit = \"all\"\nlesson_chars = 80")
        .section("[llm]\nmax_repairs = 2\nfallback = \"previous\"\nmax_fallback_share = 0.05");
    for policy in [
        "greedy",
        "sustainable",
        "follower",
        "chaotic",
        "conditional",
    ] {
        exp = exp.provider(
            policy,
            &format!(
                "kind = \"mock\"\npolicy = \"{policy}\"\nnoise = 0\ntemperature = 0.5\nseed = 5"
            ),
        );
    }
    exp = exp.population(
        "every-policy",
        "{ kind = \"llm\", provider = \"greedy\" }, { kind = \"llm\", provider = \"sustainable\" }, \
         { kind = \"llm\", provider = \"follower\" }, { kind = \"llm\", provider = \"chaotic\" }, \
         { kind = \"llm\", provider = \"conditional\", count = 2 }",
    );
    for (name, kind, switches) in VARIANTS {
        exp = exp.protocol(name, kind, switches);
    }
    let path = exp.write(dir.path());
    let out = run_experiment(&path, dir.path(), &["--no-report"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = Table::read(&dir.path().join("mock-coverage/runs.csv"));
    assert_eq!(runs.rows.len(), VARIANTS.len() * 2 * 2);
    let mut answers = 0.0;
    for (i, row) in runs.rows.iter().enumerate() {
        let cell = &row[runs.col("cell")];
        assert_eq!(row[runs.col("status")], "ok", "{cell}: {:?}", row);
        assert_eq!(
            runs.numbers("llm_fallbacks")[i],
            0.0,
            "{cell}: {}",
            row[runs.col("error")]
        );
        // noise = 0: every answer is valid at the first try, none needs a repair.
        assert_eq!(runs.numbers("llm_repairs")[i], 0.0, "{cell}");
        answers += runs.numbers("llm_answers")[i];
    }
    assert!(answers > 0.0);
    // The directed broadcast, the ledger's reports, the leader's election and the market
    // were all asked: their texts and events are on record.
    let messages = Table::read(&dir.path().join("mock-coverage/messages.csv"));
    for kind in ["message", "intention", "agenda", "lesson"] {
        assert!(
            messages.column("kind").contains(&kind),
            "no {kind} in messages.csv"
        );
    }
}
