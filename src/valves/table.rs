//! Every valve the pipe understands, in the order Open WebUI shows them.
//! Names, types and defaults follow the reference pipe so admins keep their configuration.

use super::spec::{DefaultValue as D, ValveSpec, ValveStatus, ValveType as T};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

const fn valve(name: &'static str, ty: T, default: D, description: &'static str) -> ValveSpec {
    ValveSpec {
        name,
        ty,
        default,
        min: None,
        max: None,
        description,
        user_title: None,
        status: ValveStatus::Live,
    }
}

const fn ranged(
    name: &'static str,
    ty: T,
    default: D,
    min: Option<f64>,
    max: Option<f64>,
    description: &'static str,
) -> ValveSpec {
    ValveSpec {
        name,
        ty,
        default,
        min,
        max,
        description,
        user_title: None,
        status: ValveStatus::Live,
    }
}

const fn user(spec: ValveSpec, title: &'static str) -> ValveSpec {
    ValveSpec {
        user_title: Some(title),
        ..spec
    }
}

/// Declared for a coming feature; `until` completes "does nothing until …". No valve
/// waits for one now (every declared valve works); kept for the next feature's valves.
#[allow(dead_code)]
const fn planned(spec: ValveSpec, until: &'static str) -> ValveSpec {
    ValveSpec {
        status: ValveStatus::Planned(until),
        ..spec
    }
}

/// Accepted so stored reference configurations load; `why` says why it has no effect.
const fn compat(spec: ValveSpec, why: &'static str) -> ValveSpec {
    ValveSpec {
        status: ValveStatus::Compat(why),
        ..spec
    }
}

pub const REASONING_EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh"];

impl ValveSpec {
    /// Looks a valve up by name in the declaration table.
    pub fn find(name: &str) -> Option<&'static ValveSpec> {
        // Settings read every valve of every request by name: an index, not a scan of
        // the table (the scan's string compares were ~30,000 instructions per request),
        // hashed with FNV-1a (SipHash cost as much again for these short names).
        type Index = HashMap<&'static str, &'static ValveSpec, BuildHasherDefault<Fnv1a>>;
        static INDEX: OnceLock<Index> = OnceLock::new();
        INDEX
            .get_or_init(|| VALVES.iter().map(|v| (v.name, v)).collect())
            .get(name)
            .copied()
    }
}

/// FNV-1a, for the valve index: its keys are the table's own names, not attacker input.
#[derive(Default)]
struct Fnv1a(u64);

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for byte in bytes {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

#[rustfmt::skip]
pub static VALVES: &[ValveSpec] = &[
    // --- Connection and endpoints ---
    valve("BASE_URL", T::Str, D::Env { var: "OPENROUTER_API_BASE_URL", fallback: "https://openrouter.ai/api/v1" }, "OpenRouter API base URL. Change it only to go through a gateway or proxy."),
    valve("DEFAULT_LLM_ENDPOINT", T::Choice(&["responses", "chat_completions"]), D::Str("responses"), "Which OpenRouter API chat requests use by default: the Responses API or Chat Completions. Background tasks such as titles always use the Responses API."),
    valve("FORCE_CHAT_COMPLETIONS_MODELS", T::Str, D::Str(""), "Comma-separated model patterns (wildcards allowed, e.g. anthropic/*) that always go through Chat Completions. Empty means none."),
    valve("FORCE_RESPONSES_MODELS", T::Str, D::Str(""), "Comma-separated model patterns that always go through the Responses API; a match here wins over the Chat Completions list. Empty means none."),
    valve("AUTO_FALLBACK_CHAT_COMPLETIONS", T::Bool, D::Bool(true), "When a model turns out not to support the Responses API, retry through Chat Completions, as long as nothing has been shown to the user yet."),
    valve("API_KEY", T::Secret, D::Env { var: "OPENROUTER_API_KEY", fallback: "" }, "Your OpenRouter API key (sk-or-…). Falls back to the OPENROUTER_API_KEY environment variable."),
    valve("HTTP_REFERER_OVERRIDE", T::Str, D::Str(""), "Site URL sent to OpenRouter as HTTP-Referer, which names your app in OpenRouter's statistics. It must start with http:// or https://; empty sends the project's own URL."),
    ranged("HTTP_CONNECT_TIMEOUT_SECONDS", T::Int, D::Int(10), Some(1.0), None, "Seconds to wait for a connection to OpenRouter."),
    ranged("HTTP_TOTAL_TIMEOUT_SECONDS", T::OptionalInt, D::Null, Some(1.0), None, "Longest time in seconds a whole OpenRouter request may take, streaming included. Empty means no overall limit; the idle read timeout applies instead."),
    ranged("HTTP_SOCK_READ_SECONDS", T::Int, D::Int(300), Some(1.0), None, "Seconds a response may stay silent before the request is given up. Only used when no total timeout is set."),
    // --- Files, images and downloads ---
    ranged("REMOTE_DOWNLOAD_MAX_RETRIES", T::Int, D::Int(3), Some(0.0), Some(10.0), "How many times a failed download of a remote file or image is retried. 0 means a single attempt."),
    ranged("REMOTE_DOWNLOAD_INITIAL_RETRY_DELAY_SECONDS", T::Int, D::Int(5), Some(1.0), Some(60.0), "Seconds to wait before the first download retry; the wait grows after each further failure."),
    ranged("REMOTE_DOWNLOAD_MAX_RETRY_TIME_SECONDS", T::Int, D::Int(45), Some(5.0), Some(300.0), "Upper limit in seconds for one wait between download retries, and for the whole retry period."),
    ranged("REMOTE_FILE_MAX_SIZE_MB", T::Int, D::Int(50), Some(1.0), Some(500.0), "Largest remote file, in MB, that will be downloaded. Open WebUI's own file size limit can take precedence when one is set."),
    valve("SAVE_REMOTE_FILE_URLS", T::Bool, D::Bool(true), "Download files that are given by URL and keep a copy in Open WebUI's file storage."),
    valve("SAVE_FILE_DATA_CONTENT", T::Bool, D::Bool(true), "Keep a copy of files sent as inline data (base64) in Open WebUI's file storage."),
    ranged("BASE64_MAX_SIZE_MB", T::Int, D::Int(50), Some(1.0), Some(500.0), "Largest inline (base64) file or image accepted, in MB of decoded data. Also the limit for Open WebUI files embedded into a request."),
    ranged("IMAGE_UPLOAD_CHUNK_BYTES", T::Int, D::Int(1_048_576), Some(65_536.0), Some(8_388_608.0), "Chunk size in bytes used when reading Open WebUI files to embed them in a request. Bigger chunks are faster but use more memory."),
    ranged("VIDEO_MAX_SIZE_MB", T::Int, D::Int(100), Some(1.0), Some(1000.0), "Largest inline (base64) video accepted, in MB."),
    valve("FALLBACK_STORAGE_EMAIL", T::Str, D::Env { var: "OPENROUTER_STORAGE_USER_EMAIL", fallback: "openrouter-pipe@system.local" }, "Email of the service account that owns stored files when a request has no user; the account is created if missing. Defaults to the OPENROUTER_STORAGE_USER_EMAIL environment variable."),
    valve("FALLBACK_STORAGE_NAME", T::Str, D::Env { var: "OPENROUTER_STORAGE_USER_NAME", fallback: "OpenRouter Pipe Storage" }, "Display name of that service account. Defaults to the OPENROUTER_STORAGE_USER_NAME environment variable."),
    valve("FALLBACK_STORAGE_ROLE", T::Str, D::Env { var: "OPENROUTER_STORAGE_USER_ROLE", fallback: "pending" }, "Open WebUI role of that service account; keep it unprivileged (admin is not advised). Defaults to the OPENROUTER_STORAGE_USER_ROLE environment variable."),
    valve("ENABLE_SSRF_PROTECTION", T::Bool, D::Bool(true), "Refuse to download from private, loopback and other internal network addresses. Turn off only if every URL users can send is trusted."),
    // --- Models and reasoning ---
    valve("MODEL_ID", T::Str, D::Str("auto"), "Models to offer: auto lists every OpenRouter model; otherwise a comma-separated list of OpenRouter model ids such as openai/gpt-4o."),
    ranged("MODEL_CATALOG_REFRESH_SECONDS", T::Int, D::Int(3600), Some(60.0), None, "How often, in seconds, the list of OpenRouter models is fetched again."),
    user(valve("ENABLE_REASONING", T::Bool, D::Bool(true), "Ask models that can reason to do so and show their reasoning while they work."), "Show reasoning steps"),
    user(valve("THINKING_OUTPUT_MODE", T::Choice(&["open_webui", "status", "both"]), D::Str("open_webui"), "Where live reasoning appears: Open WebUI's Thinking block, status lines, or both."), "Thinking output"),
    user(valve("ENABLE_ANTHROPIC_INTERLEAVED_THINKING", T::Bool, D::Bool(true), "Let Claude models think between tool calls by sending Anthropic's interleaved-thinking beta header."), "Interleaved thinking (Claude)"),
    valve("ENABLE_ANTHROPIC_PROMPT_CACHING", T::Bool, D::Bool(true), "Mark the system prompt and recent user messages as cacheable for Claude models, which cuts cost and latency in long chats."),
    valve("ANTHROPIC_PROMPT_CACHE_TTL", T::Choice(&["5m", "1h"]), D::Str("5m"), "How long Anthropic keeps a cached prompt: 5 minutes or 1 hour. The 1 hour cache costs more to write."),
    valve("AUTO_CONTEXT_TRIMMING", T::Bool, D::Bool(true), "Let OpenRouter drop messages from the middle of a chat that is too long for the model (its middle-out transform) instead of failing. Not applied when the request chooses its own transforms."),
    user(valve("REASONING_EFFORT", T::Choice(REASONING_EFFORTS), D::Str("medium"), "How much reasoning models should do by default, from none to xhigh. Higher levels answer more slowly and use more tokens."), "Reasoning depth"),
    user(valve("REASONING_SUMMARY_MODE", T::Choice(&["auto", "concise", "detailed", "disabled"]), D::Str("auto"), "How detailed a summary of its reasoning the model should return; disabled asks for none."), "Reasoning explanation detail"),
    valve("GEMINI_THINKING_LEVEL", T::Choice(&["auto", "low", "high"]), D::Str("auto"), "Thinking level for Gemini 3 models. auto derives it from the reasoning effort."),
    ranged("GEMINI_THINKING_BUDGET", T::Int, D::Int(1024), Some(0.0), Some(65_536.0), "Base thinking budget in tokens for Gemini 2.5 models, scaled with the reasoning effort. 0 gives them no thinking budget."),
    user(valve("PERSIST_REASONING_TOKENS", T::Choice(&["disabled", "next_reply", "conversation"]), D::Str("conversation"), "How long a model's reasoning is kept and sent back on later turns: never, for the next reply only, or for the whole conversation."), "How long to keep reasoning"),
    valve("TASK_MODEL_REASONING_EFFORT", T::Choice(REASONING_EFFORTS), D::Str("low"), "Reasoning effort for background tasks such as title and tag generation when they run on one of this pipe's models."),
    user(valve("PERSIST_TOOL_RESULTS", T::Bool, D::Bool(true), "Keep tool calls and their results so the model sees them again on later turns. Off means later turns only see the visible text."), "Remember tool and search results"),
    // --- Stored reasoning and tool results ---
    valve("ARTIFACT_ENCRYPTION_KEY", T::Secret, D::Str(""), "Passphrase (16 characters or more recommended) that encrypts stored reasoning and tool results. Empty stores them unencrypted; changing it makes earlier stored items unreadable."),
    valve("ENCRYPT_ALL", T::Bool, D::Bool(true), "With an encryption key set, encrypt every stored item. Off encrypts only reasoning."),
    valve("ENABLE_LZ4_COMPRESSION", T::Bool, D::Bool(true), "Compress encrypted items with LZ4 before storing them, whenever that makes them smaller."),
    ranged("MIN_COMPRESS_BYTES", T::Int, D::Int(0), Some(0.0), None, "Items smaller than this many bytes are stored without compression. 0 means always try to compress."),
    // --- Tools and web search ---
    valve("ENABLE_STRICT_TOOL_CALLING", T::Bool, D::Bool(true), "Send tool definitions in strict mode, so models must follow each tool's parameter schema exactly."),
    valve("MAX_FUNCTION_CALL_LOOPS", T::Int, D::Int(25), "Most rounds of tool calls a model may make while answering one message. When it is reached, the answer ends with a note."),
    ranged("WEB_SEARCH_MAX_RESULTS", T::OptionalInt, D::Int(3), Some(1.0), Some(10.0), "Number of results per OpenRouter web search. Empty leaves the choice to OpenRouter."),
    // --- Logging ---
    user(valve("LOG_LEVEL", T::Choice(&["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]), D::Env { var: "GLOBAL_LOG_LEVEL", fallback: "INFO" }, "Lowest level of pipe messages written to Open WebUI's log for each request, tagged with the request, user, chat and message ids; DEBUG adds the outbound request (secrets redacted) and every non-delta upstream event. A user's own setting applies to that user's requests. Defaults to the GLOBAL_LOG_LEVEL environment variable, else INFO."), "Server log level"),
    valve("SESSION_LOG_STORE_ENABLED", T::Bool, D::Bool(false), "Save every log record of each chat request (at every level) on the server as an AES-encrypted zip file, for troubleshooting. Needs a zip password and a folder; tasks and requests without user, session, chat and message ids get none."),
    valve("SESSION_LOG_DIR", T::Str, D::Str("session_logs"), "Folder for the log archives. A relative path starts from the Open WebUI server's working directory."),
    valve("SESSION_LOG_ZIP_PASSWORD", T::Secret, D::Str(""), "Password that encrypts the log archives (AES). No archives are written while it is empty."),
    ranged("SESSION_LOG_RETENTION_DAYS", T::Int, D::Int(90), Some(1.0), None, "Log archives older than this many days are deleted."),
    ranged("SESSION_LOG_CLEANUP_INTERVAL_SECONDS", T::Int, D::Int(3600), Some(60.0), None, "How often, in seconds, old log archives are looked for and deleted."),
    valve("SESSION_LOG_ZIP_COMPRESSION", T::Choice(&["stored", "deflated", "bzip2", "lzma"]), D::Str("lzma"), "Compression method inside the log archives (each member AES-256 encrypted); stored means no compression."),
    ranged("SESSION_LOG_ZIP_COMPRESSLEVEL", T::OptionalInt, D::Null, Some(0.0), Some(9.0), "Compression level from 0 (fastest) to 9 (smallest), used only with deflated and bzip2. Empty uses the method's default."),
    ranged("SESSION_LOG_MAX_LINES", T::Int, D::Int(20_000), Some(100.0), Some(200_000.0), "Most log records kept in memory for one request; the oldest are dropped first."),
    valve("SESSION_LOG_FORMAT", T::Choice(&["jsonl", "text", "both"]), D::Str("jsonl"), "Log format inside each archive: JSON lines, plain text, or both."),
    // --- Concurrency and streaming ---
    ranged("MAX_CONCURRENT_REQUESTS", T::Int, D::Int(200), Some(1.0), Some(2000.0), "Most requests this worker process sends to OpenRouter at the same time; further ones wait for a free slot, with a status saying so. Title and tag tasks count too but never take more than a quarter of the slots. A change applies to the next request, without a restart."),
    compat(ranged("SSE_WORKERS_PER_REQUEST", T::Int, D::Int(4), Some(1.0), Some(8.0), "Number of workers that decode the incoming event stream of each request."), "this pipe parses each answer's event stream on its engine threads as the bytes arrive, so there are no decode workers to size"),
    compat(ranged("STREAMING_CHUNK_QUEUE_MAXSIZE", T::Int, D::Int(0), Some(0.0), None, "Most raw stream chunks buffered per request. 0 means no limit, which is recommended; small limits can stall a stream."), "there is no raw chunk queue: bytes go from the connection straight into the parser"),
    compat(ranged("STREAMING_EVENT_QUEUE_MAXSIZE", T::Int, D::Int(0), Some(0.0), None, "Most decoded stream events buffered per request. 0 means no limit, which is recommended; small limits can stall a stream."), "there is no decoded-event queue: each event is handled as soon as it is parsed"),
    compat(ranged("STREAMING_EVENT_QUEUE_WARN_SIZE", T::Int, D::Int(1000), Some(100.0), None, "A warning is logged when this many decoded events are waiting to be handled."), "there is no decoded-event queue that could back up: each event is handled as soon as it is parsed"),
    compat(ranged("MIDDLEWARE_STREAM_QUEUE_MAXSIZE", T::Int, D::Int(0), Some(0.0), None, "Most output chunks buffered per request on their way to Open WebUI. 0 means no limit."), "the hand-over to Open WebUI is always bounded (512 batches), and when it is full the pipe pauses reading from OpenRouter until Open WebUI catches up"),
    compat(ranged("MIDDLEWARE_STREAM_QUEUE_PUT_TIMEOUT_SECONDS", T::Float, D::Float(1.0), Some(0.0), None, "When the output buffer is limited and full, seconds to wait for room before the request is aborted. 0 waits forever."), "a full hand-over to Open WebUI pauses reading from OpenRouter instead of aborting the answer, so there is no wait to time out"),
    // --- Error messages ---
    valve("OPENROUTER_ERROR_TEMPLATE", T::Str, D::Str(""), "Markdown shown when OpenRouter or the provider rejects a request (400, 403, 404, moderation, an error inside the stream) and the failure has no template of its own. Supports {placeholders} and {{#if name}} blocks (see docs/error-templates.md); empty, or a template that cannot be used, gives the built-in card."),
    valve("AUTHENTICATION_ERROR_TEMPLATE", T::Str, D::Str(""), "Markdown shown when OpenRouter does not accept the API key (HTTP 401). Empty uses the built-in card."),
    valve("INSUFFICIENT_CREDITS_TEMPLATE", T::Str, D::Str(""), "Markdown shown when the OpenRouter account has run out of credits (HTTP 402). Empty uses the built-in card."),
    valve("RATE_LIMIT_TEMPLATE", T::Str, D::Str(""), "Markdown shown when requests are being rate-limited (HTTP 429) and retrying did not help. Empty uses the built-in card."),
    valve("SERVER_TIMEOUT_TEMPLATE", T::Str, D::Str(""), "Markdown shown when OpenRouter reports that the request timed out (HTTP 408) and retrying did not help. Empty uses the built-in card."),
    valve("SUPPORT_EMAIL", T::Str, D::Str(""), "Support email address shown on every error card ({support_email} in templates). Empty leaves it out."),
    valve("SUPPORT_URL", T::Str, D::Str(""), "Support page link shown on every error card ({support_url} in templates). Empty leaves it out."),
    valve("NETWORK_TIMEOUT_TEMPLATE", T::Str, D::Str(""), "Markdown shown when OpenRouter sends no answer within the timeout valves, after the retries. Empty uses the built-in card."),
    valve("CONNECTION_ERROR_TEMPLATE", T::Str, D::Str(""), "Markdown shown when OpenRouter cannot be reached at all (refused, DNS, TLS), after the retries. Empty uses the built-in card."),
    valve("SERVICE_ERROR_TEMPLATE", T::Str, D::Str(""), "Markdown shown when OpenRouter or the provider has a server-side error (HTTP 5xx) and retrying did not help. Empty uses the built-in card."),
    valve("INTERNAL_ERROR_TEMPLATE", T::Str, D::Str(""), "Markdown shown when the pipe receives an answer it cannot use (a success status with a body that is not a readable answer) or fails internally while answering. Empty uses the built-in card."),
    valve("MAX_FUNCTION_CALL_LOOPS_REACHED_TEMPLATE", T::Str, D::Str(""), "Markdown added to an answer that stopped at the tool-round limit. Empty uses the built-in card."),
    // --- Tool execution ---
    ranged("MAX_PARALLEL_TOOLS_GLOBAL", T::Int, D::Int(200), Some(1.0), Some(2000.0), "Most tool calls running at the same time across all requests."),
    ranged("MAX_PARALLEL_TOOLS_PER_REQUEST", T::Int, D::Int(5), Some(1.0), Some(50.0), "Most tool calls running at the same time within one request."),
    ranged("BREAKER_MAX_FAILURES", T::Int, D::Int(5), Some(1.0), Some(50.0), "Failures within the time window below after which a user's breaker opens: requests to OpenRouter that failed even after retries (connection failures, timeouts, rate limits, server errors) pause the user's chats for a while, answered at once without a request; database errors stop storing and replaying their reasoning and tool results; failures of one kind of tool skip those tools. Each breaker closes by itself. A change applies with the next chat message."),
    ranged("BREAKER_WINDOW_SECONDS", T::Int, D::Int(60), Some(5.0), Some(900.0), "Length in seconds of the window in which those errors are counted. A change applies with the next chat message."),
    ranged("BREAKER_HISTORY_SIZE", T::Int, D::Int(5), Some(1.0), Some(200.0), "How many recent failures are remembered for each user and kind of breaker. Keep it at least as large as the failure limit, or nothing is ever paused."),
    ranged("TOOL_BATCH_CAP", T::Int, D::Int(4), Some(1.0), Some(32.0), "Most independent calls of the same tool that are run together as one batch."),
    ranged("TOOL_OUTPUT_RETENTION_TURNS", T::Int, D::Int(10), Some(0.0), None, "Number of recent turns whose tool results are sent back to the model in full; long results from older turns are shortened. 0 always sends them in full."),
    ranged("TOOL_TIMEOUT_SECONDS", T::Int, D::Int(60), Some(1.0), Some(600.0), "Seconds a single tool call may run before it is cancelled."),
    ranged("TOOL_BATCH_TIMEOUT_SECONDS", T::Int, D::Int(120), Some(1.0), None, "Seconds a batch of tool calls may run in total. A value below the single-call timeout is raised to it."),
    ranged("TOOL_IDLE_TIMEOUT_SECONDS", T::OptionalInt, D::Null, Some(1.0), None, "Seconds to wait for tool work to make progress before the remaining tool calls are cancelled. Empty means no limit."),
    ranged("TOOL_SHUTDOWN_TIMEOUT_SECONDS", T::Float, D::Float(10.0), Some(0.0), None, "Seconds running tool calls get to finish once a request is over, before they are cancelled. 0 cancels them at once."),
    // --- Redis and cleanup ---
    valve("ENABLE_REDIS_CACHE", T::Bool, D::Bool(true), "Use Open WebUI's Redis to cache stored items and queue database writes, when Open WebUI runs several workers with Redis set up."),
    ranged("REDIS_CACHE_TTL_SECONDS", T::Int, D::Int(600), Some(60.0), Some(3600.0), "How long, in seconds, items stay in the Redis cache."),
    ranged("REDIS_PENDING_WARN_THRESHOLD", T::Int, D::Int(100), Some(1.0), Some(10_000.0), "A warning is logged when this many writes are waiting in Redis to reach the database."),
    ranged("REDIS_FLUSH_FAILURE_LIMIT", T::Int, D::Int(5), Some(1.0), Some(50.0), "Consecutive Redis errors after which Redis is switched off and items are written straight to the database."),
    valve("COSTS_REDIS_DUMP", T::Bool, D::Bool(false), "Write a usage and cost record for every model call to Redis, for outside billing or reporting tools."),
    ranged("COSTS_REDIS_TTL_SECONDS", T::Int, D::Int(900), Some(60.0), Some(3600.0), "How long, in seconds, those usage records stay in Redis."),
    ranged("ARTIFACT_CLEANUP_DAYS", T::Int, D::Int(90), Some(1.0), Some(365.0), "Stored reasoning and tool results that have not been used for this many days are deleted. A change applies with the next chat message."),
    ranged("ARTIFACT_CLEANUP_INTERVAL_HOURS", T::Float, D::Float(1.0), Some(0.5), Some(24.0), "How often, in hours, old stored items are looked for and deleted. A change applies with the next chat message."),
    ranged("DB_BATCH_SIZE", T::Int, D::Int(10), Some(5.0), Some(20.0), "Number of stored items written to the database in one transaction."),
    // --- Requests and display ---
    valve("USE_MODEL_MAX_OUTPUT_TOKENS", T::Bool, D::Bool(false), "Set each request's output token limit to the model's maximum from the catalog. Off sends no limit, so the provider's default applies."),
    user(valve("SHOW_FINAL_USAGE_STATUS", T::Bool, D::Bool(true), "End each reply with a status line showing time, speed, cost and token counts. Off shows only how long the model took."), "Show usage details"),
    valve("ENABLE_STATUS_CSS_PATCH", T::Bool, D::Bool(true), "Add a small style fix to the chat page so status messages spanning several lines are shown in full."),
    valve("SEND_END_USER_ID", T::Bool, D::Bool(false), "Send the Open WebUI user id to OpenRouter, which helps with per-user tracking and abuse reports."),
    valve("SEND_SESSION_ID", T::Bool, D::Bool(false), "Send the Open WebUI session id to OpenRouter."),
    valve("SEND_CHAT_ID", T::Bool, D::Bool(false), "Send the chat id to OpenRouter as request metadata."),
    valve("SEND_MESSAGE_ID", T::Bool, D::Bool(false), "Send the message id to OpenRouter as request metadata."),
    ranged("MAX_INPUT_IMAGES_PER_REQUEST", T::Int, D::Int(5), Some(1.0), Some(20.0), "Most images sent along with the latest user message; any beyond that are left out."),
    valve("IMAGE_INPUT_SELECTION", T::Choice(&["user_turn_only", "user_then_assistant"]), D::Str("user_then_assistant"), "Which images go with a message: only those the user attached, or, if there are none, the latest images from the previous assistant reply."),
    // --- Open WebUI model settings ---
    valve("UPDATE_MODEL_IMAGES", T::Bool, D::Bool(true), "Copy each model's icon from OpenRouter into Open WebUI's model settings."),
    valve("UPDATE_MODEL_CAPABILITIES", T::Bool, D::Bool(true), "Fill in each model's capabilities (vision, files, web search and so on) in Open WebUI from OpenRouter's catalog."),
    valve("AUTO_ATTACH_ORS_FILTER", T::Bool, D::Bool(true), "Attach the OpenRouter Search filter to models that support OpenRouter's web search, so its toggle shows only where it works."),
    valve("AUTO_INSTALL_ORS_FILTER", T::Bool, D::Bool(true), "Install the OpenRouter Search filter function and keep it up to date."),
    valve("AUTO_DEFAULT_OPENROUTER_SEARCH_FILTER", T::Bool, D::Bool(true), "Switch OpenRouter Search on by default for supporting models. This happens once per model, so an admin's later change is kept."),
    // --- Added by this pipe (not in the reference) ---
    ranged("STREAM_COALESCE_WINDOW_MS", T::Int, D::Int(40), Some(0.0), Some(1000.0), "Text arriving within this many milliseconds of the last chunk sent is merged into one chunk before it reaches Open WebUI; the first token is never held back. 0 turns merging off."),
    ranged("STREAM_COALESCE_MAX_CHARS", T::Int, D::Int(4096), Some(1.0), Some(1_000_000.0), "A merged chunk is sent as soon as it holds this many characters."),
    valve("ARTIFACT_DB_PATH", T::Str, D::Str(""), "Path of the SQLite file where the pipe stores reasoning and tool results. Empty means Open WebUI's PostgreSQL database when Open WebUI runs on one, else openrouter_pipe/artifacts.db inside Open WebUI's data directory. Ignored when ARTIFACT_DATABASE_URL is set."),
    valve("ARTIFACT_DATABASE_URL", T::Secret, D::Str(""), "Database for stored reasoning and tool results: a PostgreSQL URL (postgresql://user:password@host:5432/dbname, sslmode and other libpq options allowed) or a SQLite file (sqlite:////path/artifacts.db or a plain path). Empty follows Open WebUI: its own PostgreSQL database when it runs on one, else the SQLite file of ARTIFACT_DB_PATH. Stored encrypted; the password never appears in logs."),
    valve("UPDATE_MODEL_DESCRIPTIONS", T::Bool, D::Bool(true), "Copy each model's OpenRouter description into its Open WebUI model entry. Descriptions an admin edited by hand are left alone."),
    valve("TOOL_EXECUTION_MODE", T::Choice(&["Pipeline", "Open-WebUI"]), D::Str("Pipeline"), "Who runs the tools a model calls: Pipeline (the pipe runs them and continues the answer) or Open-WebUI (the pipe hands the calls to Open WebUI's own tool loop)."),
    valve("ALLOW_INSECURE_HTTP", T::Bool, D::Bool(false), "Also download files and images over plain http:// (unencrypted) from any host. Off means https only, except the hosts listed below."),
    valve("ALLOW_INSECURE_HTTP_HOSTS", T::Str, D::Str(""), "Comma-separated host names or IP addresses that may be reached over plain http:// even when insecure http is off. Empty means none."),
    // Error templates of the newer reference pipe (not in 1.0.19).
    valve("PAYLOAD_TOO_LARGE_TEMPLATE", T::Str, D::Str(""), "Markdown shown when OpenRouter refuses a request as too large (HTTP 413). Empty uses the built-in card."),
    valve("STREAM_INTERRUPTED_TEMPLATE", T::Str, D::Str(""), "Markdown added after the partial text when a streamed answer breaks off before it finished. Empty uses the built-in card."),
    valve("SERVER_BUSY_TEMPLATE", T::Str, D::Str(""), "Markdown shown at once when this worker does not send a request: every slot is taken and the waiting queue is full, or the user's requests are paused after repeated failures. Empty uses the built-in card."),
    valve("MODEL_RESTRICTED_TEMPLATE", T::Str, D::Str(""), "Markdown shown when a chat asks for a model outside the MODEL_ID selection; nothing is sent to OpenRouter. Empty uses the built-in card."),
    ranged("MAX_QUEUED_REQUESTS", T::Int, D::Int(500), Some(0.0), Some(100_000.0), "Most requests of this worker process waiting for a free slot; a request beyond that is answered at once with a \"server busy, try again\" message. 0 means none wait."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Number of valves taken over from the reference pipe; ours follow them.
    const REFERENCE_VALVES: usize = 108;

    fn choices_of(v: &ValveSpec) -> Option<&'static [&'static str]> {
        match v.ty {
            T::Choice(choices) => Some(choices),
            _ => None,
        }
    }

    #[test]
    fn names_are_unique_upper_snake() {
        let mut seen = HashSet::new();
        for v in VALVES {
            assert!(seen.insert(v.name), "duplicate valve {}", v.name);
            assert!(
                !v.name.is_empty()
                    && v.name.starts_with(|c: char| c.is_ascii_uppercase())
                    && !v.name.ends_with('_')
                    && !v.name.contains("__")
                    && v.name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{} is not UPPER_SNAKE",
                v.name
            );
        }
    }

    #[test]
    fn reference_valves_come_first() {
        let idx = VALVES
            .iter()
            .position(|v| v.name == "STREAM_COALESCE_WINDOW_MS")
            .expect("STREAM_COALESCE_WINDOW_MS declared");
        assert_eq!(idx, REFERENCE_VALVES);
        assert_eq!(VALVES[0].name, "BASE_URL");
        assert_eq!(
            VALVES[REFERENCE_VALVES - 1].name,
            "AUTO_DEFAULT_OPENROUTER_SEARCH_FILTER"
        );
        assert_eq!(VALVES.len(), REFERENCE_VALVES + 13);
        assert!(ValveSpec::find("REDIS_URL").is_none());
    }

    #[test]
    fn exactly_the_reference_user_valves() {
        let users: Vec<(&str, &str)> = VALVES
            .iter()
            .filter_map(|v| v.user_title.map(|t| (v.name, t)))
            .collect();
        assert_eq!(users.len(), 9, "{users:?}");
        for (name, title) in [
            ("SHOW_FINAL_USAGE_STATUS", "Show usage details"),
            ("ENABLE_REASONING", "Show reasoning steps"),
            ("THINKING_OUTPUT_MODE", "Thinking output"),
            (
                "ENABLE_ANTHROPIC_INTERLEAVED_THINKING",
                "Interleaved thinking (Claude)",
            ),
            ("REASONING_EFFORT", "Reasoning depth"),
            ("REASONING_SUMMARY_MODE", "Reasoning explanation detail"),
            ("PERSIST_REASONING_TOKENS", "How long to keep reasoning"),
            ("PERSIST_TOOL_RESULTS", "Remember tool and search results"),
            // #14: a user can turn on DEBUG for their own requests (the reference cannot).
            ("LOG_LEVEL", "Server log level"),
        ] {
            assert!(
                users.contains(&(name, title)),
                "{name} should have title {title:?}"
            );
        }
    }

    #[test]
    fn choice_defaults_are_choices() {
        for v in VALVES {
            let Some(choices) = choices_of(v) else {
                continue;
            };
            assert!(!choices.is_empty(), "{} has no choices", v.name);
            let default = match v.default {
                D::Str(s) => s,
                D::Env { fallback, .. } => fallback,
                other => panic!("{}: choice valve with default {other:?}", v.name),
            };
            assert!(
                choices.contains(&default),
                "{}: {default:?} not in {choices:?}",
                v.name
            );
        }
    }

    #[test]
    fn defaults_match_types_and_ranges() {
        for v in VALVES {
            let number = match (v.ty, v.default) {
                (T::Int, D::Int(n)) | (T::OptionalInt, D::Int(n)) => Some(n as f64),
                (T::OptionalInt, D::Null) => None,
                (T::Float, D::Float(x)) => Some(x),
                (T::Bool, D::Bool(_)) => None,
                (T::Str | T::Secret, D::Str(_) | D::Env { .. }) => None,
                (T::Choice(_), D::Str(_) | D::Env { .. }) => None,
                (ty, d) => panic!("{}: default {d:?} does not fit type {ty:?}", v.name),
            };
            let numeric = matches!(v.ty, T::Int | T::OptionalInt | T::Float);
            assert!(
                numeric || (v.min.is_none() && v.max.is_none()),
                "{}: bounds on a non-numeric valve",
                v.name
            );
            if let (Some(lo), Some(hi)) = (v.min, v.max) {
                assert!(lo <= hi, "{}: min above max", v.name);
            }
            if let Some(n) = number {
                if let Some(lo) = v.min {
                    assert!(n >= lo, "{}: default {n} below {lo}", v.name);
                }
                if let Some(hi) = v.max {
                    assert!(n <= hi, "{}: default {n} above {hi}", v.name);
                }
            }
        }
    }

    #[test]
    fn secrets_are_exactly_the_encrypted_valves() {
        let secrets: Vec<&str> = VALVES
            .iter()
            .filter(|v| v.ty == T::Secret)
            .map(|v| v.name)
            .collect();
        assert_eq!(
            secrets,
            [
                "API_KEY",
                "ARTIFACT_ENCRYPTION_KEY",
                "SESSION_LOG_ZIP_PASSWORD",
                "ARTIFACT_DATABASE_URL"
            ]
        );
    }

    #[test]
    fn descriptions_are_sentences() {
        for v in VALVES {
            let d = v.description.trim();
            assert!(!d.is_empty(), "{} has no description", v.name);
            assert!(
                d.ends_with('.'),
                "{}: description must end with a period",
                v.name
            );
            assert_eq!(
                d, v.description,
                "{}: stray whitespace in description",
                v.name
            );
        }
    }

    #[test]
    fn templates_default_to_built_in() {
        for v in VALVES.iter().filter(|v| v.name.ends_with("_TEMPLATE")) {
            assert_eq!(v.ty, T::Str, "{}", v.name);
            assert_eq!(v.default, D::Str(""), "{}", v.name);
        }
        assert_eq!(
            VALVES
                .iter()
                .filter(|v| v.name.ends_with("_TEMPLATE"))
                .count(),
            14
        );
    }
}
