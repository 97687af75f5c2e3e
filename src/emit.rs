//! The one output vocabulary: what the engine tells Open WebUI (and the log), independent
//! of how it is serialised. It sits at the crate root because every layer produces or
//! consumes it: the mapper and the notices produce it, the sinks and the bindings consume it.
//!
//! Everything that happens during a request (text, reasoning, statuses, sources, usage,
//! errors) is reduced to a sequence of [`Emit`] values. The coalescer merges adjacent
//! text, and [`crate::stream::owui`] turns each one into the item Open WebUI expects.

use serde_json::{Map, Value};

/// Severity of a toast shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    /// Neutral information.
    Info,
    /// Something worked.
    Success,
    /// Something the user may want to act on.
    Warning,
    /// Something failed.
    Error,
}

impl NoticeLevel {
    /// The `type` Open WebUI's `notification` event expects.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeLevel::Info => "info",
            NoticeLevel::Success => "success",
            NoticeLevel::Warning => "warning",
            NoticeLevel::Error => "error",
        }
    }
}

/// Severity of a line written to the Python `logging` module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Detail for diagnosing (replay notes, skipped items).
    Debug,
    /// Routine events worth keeping.
    Info,
    /// Something went wrong but the answer went on.
    Warning,
    /// Something failed.
    Error,
}

impl LogLevel {
    /// The Python `logging` level name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warning => "WARNING",
            LogLevel::Error => "ERROR",
        }
    }

    /// The level of a Python `logging` level name (`CRITICAL` counts as an error).
    pub fn from_name(name: &str) -> Self {
        match name {
            "DEBUG" => LogLevel::Debug,
            "INFO" => LogLevel::Info,
            "WARNING" => LogLevel::Warning,
            _ => LogLevel::Error,
        }
    }
}

/// A complete function call requested by the model (arguments fully streamed).
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionCall {
    /// The output item's id (`fc_…`), or a stand-in when the stream gave none.
    pub item_id: String,
    /// The id the function's output must quote back.
    pub call_id: String,
    /// The function to call.
    pub name: String,
    /// Raw JSON text of the arguments, exactly as the model produced it.
    pub arguments: String,
}

/// One thing the user (or the log) should see.
#[derive(Debug, Clone, PartialEq)]
pub enum Emit {
    /// Visible answer text (a delta, appended to what came before).
    Content(String),
    /// Live reasoning text (a delta), shown in Open WebUI's "Thinking…" block.
    Reasoning(String),
    /// A status line under the message. `extra` carries optional fields such as
    /// `action`, `query`, `urls` that Open WebUI's status renderer understands.
    Status {
        /// The text of the line.
        description: String,
        /// Whether the step it describes has finished (Open WebUI stops its spinner).
        done: bool,
        /// Extra fields of the status event, merged into its `data`.
        extra: Map<String, Value>,
    },
    /// The `data` object of an Open WebUI `source` event (one cited URL).
    Source(Value),
    /// Token usage in the shape Open WebUI stores with the message
    /// (`prompt_tokens`, `completion_tokens`, `total_tokens`, plus OpenRouter extras).
    Usage(Value),
    /// A toast.
    Notification {
        /// How the toast is coloured.
        level: NoticeLevel,
        /// Its text.
        content: String,
    },
    /// A finished function call, for the engine's tool loop (not shown to the user).
    FunctionCall(FunctionCall),
    /// A function call handed to Open WebUI's own tool loop (`TOOL_EXECUTION_MODE`
    /// `Open-WebUI`): streamed as `delta.tool_calls`, `index` counting from 0 per answer.
    ToolCall {
        /// The call's position among this answer's calls.
        index: usize,
        /// The call itself.
        call: FunctionCall,
    },
    /// A line for the Python log (error ids, warnings); never shown to the user.
    Log {
        /// The logging level.
        level: LogLevel,
        /// The line (the log sink redacts secrets before writing it).
        message: String,
    },
    /// A non-message output item (reasoning, function call, web search…) began. The
    /// engine may place a hidden marker here so the item replays in its true position.
    ItemStarted {
        /// The item's id, or `#<output_index>` when it has none; `ItemDone` repeats it.
        key: String,
        /// The item's `type` (`reasoning`, `function_call`, …).
        item_type: String,
    },
    /// A non-message output item finished; `item` is its final JSON (for persistence).
    ItemDone {
        /// The key its `ItemStarted` carried.
        key: String,
        /// The finished item.
        item: Value,
    },
}

impl Emit {
    /// A status line with no extra fields.
    pub fn status(description: impl Into<String>, done: bool) -> Self {
        Emit::Status {
            description: description.into(),
            done,
            extra: Map::new(),
        }
    }

    /// A log line.
    pub fn log(level: LogLevel, message: impl Into<String>) -> Self {
        Emit::Log {
            level,
            message: message.into(),
        }
    }
}
