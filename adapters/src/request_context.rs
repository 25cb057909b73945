//! The request id of the HTTP request being served, carried in a task-local so that
//! outgoing service-to-service calls can forward it as `X-Request-ID`.
//!
//! The HTTP edge runs each request inside [`REQUEST_ID`]`.scope(id, future)`;
//! adapters read it with [`current_request_id`].

tokio::task_local! {
    /// The id of the request the current task serves.
    pub static REQUEST_ID: String;
}

/// The current request id, if the current task serves a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
