//! The request pipeline every call goes through, generated or handwritten.

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};

use crate::generated::Client as GeneratedClient;

/// Shared state of the pipeline, cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    access_token: Option<String>,
}

impl Pipeline {
    /// A pipeline that sends `token` as the bearer token.
    pub fn with_access_token(token: impl Into<String>) -> Self {
        Self { access_token: Some(token.into()) }
    }
}

impl ClientHooks<Pipeline> for GeneratedClient {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        request.headers_mut().remove("api-version");
        if let Some(token) = &self.inner().access_token {
            let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| progenitor_client::Error::InvalidRequest("access token is not a valid header value".into()))?;
            request.headers_mut().insert(reqwest::header::AUTHORIZATION, value);
        }
        Ok(())
    }
}
