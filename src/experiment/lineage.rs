//! Generations: a run of generation g > 1 inherits the lessons its parent (the same
//! replicate's run of generation g − 1) left, so it starts only once the parent is
//! written. The lessons come from the parent's `messages.csv` rows (`kind = "lesson"`):
//! from the runs written in this sweep, and from those already on disk when resuming.

use super::error::RunnerError;
use super::plan::RunSpec;
use crate::game::LESSON_KIND;
use crate::question::Lesson;
use crate::record::{unescape_text, MessageRow, RecordError, RunFiles};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The lessons of every written run that a later generation inherits.
#[derive(Debug, Default)]
pub struct Lineage {
    /// Runs that are some run's parent.
    parents: HashSet<String>,
    /// Their lessons, once written.
    lessons: HashMap<String, Vec<Lesson>>,
}

impl Lineage {
    /// The parents of `plan` and the lessons of those already in `dir`.
    pub fn new(
        plan: &[RunSpec],
        dir: &Path,
        completed: &HashSet<String>,
    ) -> Result<Lineage, RunnerError> {
        let parents: HashSet<String> = plan.iter().filter_map(|r| r.label.parent.clone()).collect();
        let mut lineage = Lineage {
            parents,
            lessons: HashMap::new(),
        };
        let on_disk: Vec<&String> = lineage
            .parents
            .iter()
            .filter(|p| completed.contains(*p))
            .collect();
        if on_disk.is_empty() {
            return Ok(lineage);
        }
        let generation: HashMap<&str, u32> = plan
            .iter()
            .map(|r| (r.label.run_id.as_str(), r.label.generation))
            .collect();
        let path = dir.join(RunFiles::MESSAGES);
        let mut reader = csv::Reader::from_path(&path).map_err(|e| RecordError::Csv {
            path: path.clone(),
            source: e,
        })?;
        let mut found: HashMap<String, Vec<Lesson>> =
            on_disk.iter().map(|p| ((*p).clone(), Vec::new())).collect();
        for row in reader.deserialize::<MessageRow>().flatten() {
            if row.kind != LESSON_KIND {
                continue;
            }
            if let Some(lessons) = found.get_mut(&row.run_id) {
                lessons.push(Lesson {
                    generation: generation.get(row.run_id.as_str()).copied().unwrap_or(1),
                    team: row.from,
                    text: unescape_text(&row.text),
                });
            }
        }
        lineage.lessons = found;
        Ok(lineage)
    }

    /// The lessons `spec` inherits: `Some` once its parent is written (or when it has
    /// none), `None` while it must wait.
    pub fn inherited(&self, spec: &RunSpec) -> Option<Vec<Lesson>> {
        match &spec.label.parent {
            None => Some(Vec::new()),
            Some(parent) => self.lessons.get(parent).cloned(),
        }
    }

    /// Note a written run (its lessons, when a later generation needs them).
    pub fn record(&mut self, run_id: &str, generation: u32, messages: &[MessageRow]) {
        if !self.parents.contains(run_id) {
            return;
        }
        let lessons = messages
            .iter()
            .filter(|m| m.kind == LESSON_KIND)
            .map(|m| Lesson {
                generation,
                team: m.from,
                text: unescape_text(&m.text),
            })
            .collect();
        self.lessons.insert(run_id.to_string(), lessons);
    }
}
