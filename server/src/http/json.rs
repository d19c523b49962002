use axum::{
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::StatusCode,
};
use kiln_types::{ApiError, ErrorKind};
use serde::de::DeserializeOwned;

use super::ApiErrorResponse;

/// `axum::Json`, but a bad body is answered with the error envelope, and read as
/// documented: the body and every struct in it a JSON object (see [`super::strict`]).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiErrorResponse;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<serde_json::Value>::from_request(request, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(rejection_to_error(&rejection).into()),
        };
        super::strict::from_value(value).map(Self).map_err(|error| {
            ApiError::new(
                ErrorKind::ValidationError,
                format!("Failed to deserialize the JSON body into the target type: {error}"),
            )
            .into()
        })
    }
}

fn rejection_to_error(rejection: &JsonRejection) -> ApiError {
    let kind = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorKind::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorKind::ValidationError,
        _ => ErrorKind::BadRequest,
    };
    ApiError::new(kind, rejection.body_text())
}

/// An optional JSON body: no `Content-Type` means no body; anything else must parse.
impl<S, T> axum::extract::OptionalFromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiErrorResponse;

    async fn from_request(request: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if !request
            .headers()
            .contains_key(axum::http::header::CONTENT_TYPE)
        {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(request, state)
            .await
            .map(Some)
    }
}

/// `axum::extract::Query`, but a bad query string is a 422 with the envelope.
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiErrorResponse;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| {
                ApiError::new(ErrorKind::ValidationError, rejection.body_text()).into()
            })
    }
}

/// A page as JSON, with `Link: <…>; rel="next"` / `rel="prev"` (RFC 8288) for generic
/// clients: the request's own query (filters, `limit`) with the cursor swapped in.
pub fn paged<T: serde::Serialize>(
    uri: &axum::http::Uri,
    page: kiln_types::Page<T>,
) -> axum::response::Response {
    use axum::{
        http::{HeaderValue, header},
        response::IntoResponse,
    };
    let kept: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(key, _)| key != "after" && key != "before")
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let link = |cursor: &Option<String>, direction: &str, rel: &str| {
        cursor.as_ref().map(|cursor| {
            let query: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&kept)
                .append_pair(direction, cursor)
                .finish();
            format!("<{}?{query}>; rel=\"{rel}\"", uri.path())
        })
    };
    let links: Vec<String> = [
        link(&page.next_cursor, "after", "next"),
        link(&page.prev_cursor, "before", "prev"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut response = axum::Json(page).into_response();
    if let Ok(value) = HeaderValue::from_str(&links.join(", "))
        && !links.is_empty()
    {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}
