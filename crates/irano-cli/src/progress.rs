//! A progress bar on standard error for long runs, only when standard error is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// `total`: bytes of input to read (0 when unknown, e.g. standard input).
    pub fn new(enabled: bool, total: u64) -> Self {
        if !enabled {
            return Progress(None);
        }
        let bar = if total > 0 {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        };
        let style = if total > 0 {
            ProgressStyle::with_template(
                "{spinner} evaluating [{bar:30}] {bytes}/{total_bytes} ({eta} left)",
            )
        } else {
            ProgressStyle::with_template("{spinner} evaluating {bytes} read")
        };
        if let Ok(s) = style {
            bar.set_style(s.progress_chars("=> "));
        }
        Progress(Some(bar))
    }

    pub fn set(&self, bytes: u64) {
        if let Some(b) = &self.0 {
            b.set_position(bytes);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
