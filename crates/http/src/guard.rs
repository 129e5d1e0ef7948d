//! What every request passes before its handler: a deadline, and for state-changing requests a
//! cross-site request forgery check.
//!
//! A browser sends the console's cookie with any request to the server, whichever page made it, so a
//! page elsewhere could post a form to `/api/jobs/ID/cancel`. Such requests always come with an `Origin`
//! header naming that page (browsers send it on every cross-origin POST) or with a form's content type,
//! so a POST is refused when its `Origin` is not this server's, or when it carries a body that is not JSON.
//! Command-line clients (curl, `tenantry jobs`) send neither and pass.

use std::time::Duration;

use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The longest a request may take, reading its body included (a client sending a body byte by byte
/// holds a connection and a task only this long).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Fails a request that has not been answered within [`REQUEST_TIMEOUT`] with 408.
pub(crate) async fn deadline(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError {
            status: StatusCode::REQUEST_TIMEOUT,
            code: "timeout",
            message: format!("the request took longer than {REQUEST_TIMEOUT:?}"),
        }
        .into_response(),
    }
}

/// Refuses cross-site state changes (see the module's documentation).
pub(crate) async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    if let Err(e) = check_origin(&request).and_then(|()| check_content_type(&request)) {
        tracing::info!(method = %request.method(), uri = %request.uri(), "refused: {}", e.message);
        return e.into_response();
    }
    next.run(request).await
}

fn check_origin(request: &Request) -> Result<(), ApiError> {
    let Some(origin) = request.headers().get(ORIGIN) else {
        return Ok(());
    };
    let host = request.headers().get(HOST).and_then(|h| h.to_str().ok());
    // An origin is `scheme://host[:port]`; it must name the host the request was sent to.
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    match (origin_host, host) {
        (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => Ok(()),
        _ => Err(ApiError {
            status: StatusCode::FORBIDDEN,
            code: "cross_origin",
            message: "a state-changing request from another origin is refused".into(),
        }),
    }
}

fn check_content_type(request: &Request) -> Result<(), ApiError> {
    let headers = request.headers();
    let has_body = headers
        .get(CONTENT_LENGTH)
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| l.trim() != "0")
        || headers.contains_key(axum::http::header::TRANSFER_ENCODING);
    let content_type = headers.get(CONTENT_TYPE).map(|c| c.to_str().unwrap_or(""));
    let json = content_type.is_some_and(|c| {
        c.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if json || (content_type.is_none() && !has_body) {
        Ok(())
    } else {
        Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: "a request body must be JSON (Content-Type: application/json)".into(),
        })
    }
}
