//! The pages: HTML, CSS and JavaScript written as files under `src/seat/web/` (so a web
//! developer edits them as such) and included at build. A page holds no data: each asks
//! its `/state` for JSON and writes every recorded or typed text with `textContent`, so a
//! message `<script>…` shows as those characters and never runs. The one script and the
//! one style of a page carry the response's CSP nonce; nothing else may run.
//!
//! Templates name their blanks `{{name}}`; [`fill`] fills each once, in one pass, so a
//! script that happens to contain braces is never read as a blank.
//!
//! The seat page is written for a person but shows the facts an AI captain in the seat
//! is given (from the same typed payload a remote agent receives), asks through a form
//! built from the question's exact JSON schema, and sends the answer as that object: the
//! game validates it like any agent's. What the AI reads is one click away.

const STYLE: &str = include_str!("web/style.css");
const COMMON: &str = include_str!("web/common.js");
const SCREEN: &str = include_str!("web/screen.js");
const SEAT_HTML: &str = include_str!("web/seat.html");
const SEAT_JS: &str = include_str!("web/seat.js");
const JOIN_HTML: &str = include_str!("web/join.html");
const JOIN_JS: &str = include_str!("web/join.js");
const FACILITATOR_HTML: &str = include_str!("web/facilitator.html");
const FACILITATOR_JS: &str = include_str!("web/facilitator.js");
const PROJECTOR_HTML: &str = include_str!("web/projector.html");
const PROJECTOR_JS: &str = include_str!("web/projector.js");
const NOTICE_HTML: &str = include_str!("web/notice.html");

const NOSCRIPT: &str = "<noscript><p>This page needs JavaScript to show the game and send your answers. Please turn it on, or ask the facilitator for help.</p></noscript>";

/// `template` with every `{{name}}` replaced by its value in `blanks` (a blank not
/// listed stays as written), in one pass over the template.
pub fn fill(template: &str, blanks: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + blanks.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let name = &after[..close];
                match blanks.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[open..open + close + 4]),
                }
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text for HTML (the notice page's few words).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render(html: &str, nonce: &str, scripts: &[&str], extra: &[(&str, &str)]) -> String {
    let script = scripts.concat();
    let mut blanks = vec![
        ("nonce", nonce),
        ("style", STYLE),
        ("script", script.as_str()),
        ("noscript", NOSCRIPT),
    ];
    blanks.extend_from_slice(extra);
    fill(html, &blanks)
}

/// The page of the person playing team `team`.
pub fn seat(team: usize, nonce: &str) -> String {
    let team = team.to_string();
    render(SEAT_HTML, nonce, &[COMMON, SEAT_JS], &[("team", &team)])
}

/// The join page: students pick a free team.
pub fn join(nonce: &str) -> String {
    render(JOIN_HTML, nonce, &[COMMON, JOIN_JS], &[])
}

/// The facilitator's screen: the controls, every team, the true sea, the debrief.
pub fn facilitator(nonce: &str) -> String {
    render(
        FACILITATOR_HTML,
        nonce,
        &[COMMON, SCREEN, FACILITATOR_JS],
        &[],
    )
}

/// The screen to project: no controls, no secret, no true sea before the debrief.
pub fn projector(nonce: &str) -> String {
    render(PROJECTOR_HTML, nonce, &[COMMON, SCREEN, PROJECTOR_JS], &[])
}

/// A page that only says something (a released seat, an address that is nothing), with
/// an optional link `(href, words)`; it runs no script.
pub fn notice(nonce: &str, title: &str, text: &str, link: Option<(&str, &str)>) -> String {
    let link = link.map_or(String::new(), |(href, words)| {
        format!("<p><a href=\"{}\">{}</a></p>", escape(href), escape(words))
    });
    render(
        NOTICE_HTML,
        nonce,
        &[],
        &[
            ("title", &escape(title)),
            ("text", &escape(text)),
            ("link", &link),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every page carries its nonce on its one script and one style, and no inline
    /// handler or style attribute that a nonce-only CSP would block.
    #[test]
    fn pages_run_only_nonced_script_and_style() {
        for html in [
            seat(2, "N0NCE"),
            join("N0NCE"),
            facilitator("N0NCE"),
            projector("N0NCE"),
        ] {
            assert_eq!(html.matches("<script").count(), 1);
            assert_eq!(html.matches("<script nonce=\"N0NCE\">").count(), 1);
            assert_eq!(html.matches("<style nonce=\"N0NCE\">").count(), 1);
            assert!(
                !html.contains(" style=\""),
                "inline style attributes are blocked"
            );
            assert!(!html.contains(" onclick="), "inline handlers are blocked");
            assert!(!html.contains("innerHTML"), "texts are written as text");
            assert!(html.contains("<noscript>"));
            assert!(!html.contains("{{"), "every blank filled");
        }
        for html in [facilitator("N"), projector("N")] {
            assert!(
                !html.contains("/seat/"),
                "the facilitator's pages never name a seat's address"
            );
        }
        let projector = projector("N");
        for control in [
            "/facilitator/start",
            "release",
            "csrf",
            "/facilitator/state",
        ] {
            assert!(
                !projector.contains(control),
                "the projector has no {control}"
            );
        }
    }

    #[test]
    fn blanks_are_filled_once_and_text_is_escaped() {
        assert_eq!(
            fill("a{{x}}b{{y}}c{{x}}", &[("x", "{{y}}"), ("y", "Y")]),
            "a{{y}}bYc{{y}}"
        );
        assert_eq!(fill("{{unknown}} {{", &[]), "{{unknown}} {{");
        let page = notice("N", "Team <1>", "a & b", Some(("/join/AB\"C", "Join")));
        assert!(page.contains("Team &lt;1&gt;") && page.contains("a &amp; b"));
        assert!(page.contains("href=\"/join/AB&quot;C\""));
        assert!(!page.contains("<script"));
    }
}
