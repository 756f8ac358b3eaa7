//! Writing to the host's log.
//!
//! A plugin has no stdout or stderr of its own; messages go to the host's
//! structured log, tagged with the plugin's name, version and target. The
//! host caps their length and strips control characters.

use crate::collector::inventag::plugin::log as wit;

pub use wit::Level;

/// Writes one message at the given level.
pub fn log(level: Level, message: impl AsRef<str>) {
    wit::log(level, message.as_ref());
}

/// Writes a message at `trace` level: fine detail, off unless asked for.
pub fn trace(message: impl AsRef<str>) {
    log(Level::Trace, message);
}

/// Writes a message at `debug` level: diagnostic detail.
pub fn debug(message: impl AsRef<str>) {
    log(Level::Debug, message);
}

/// Writes a message at `info` level: normal progress.
pub fn info(message: impl AsRef<str>) {
    log(Level::Info, message);
}

/// Writes a message at `warn` level: something the user should look at.
pub fn warn(message: impl AsRef<str>) {
    log(Level::Warn, message);
}

/// Writes a message at `error` level: a failure the plugin could not
/// recover from.
pub fn error(message: impl AsRef<str>) {
    log(Level::Error, message);
}
