//! The OAuth operations on [`ApiV3`], with stravalib's names. They use the same HTTP
//! client (connection pool, timeouts, user agent) and keep the tokens they obtain in the
//! pipeline, so later requests use them.

use url::Url;

use super::{ApiV3, TokenManager};
use crate::auth::{ApprovalPrompt, OAuth, Scope, Secret, TokenSet, TokenStore, TokenTypeHint};
use crate::error::{Error, Result};

impl ApiV3 {
    pub(crate) fn tokens_manager(&self) -> &TokenManager {
        &self.pipeline().shared().tokens
    }

    /// The current token set, when the client holds one (refreshes rotate it: persist it
    /// with a [`TokenStore`]).
    pub fn tokens(&self) -> Option<TokenSet> {
        self.tokens_manager().tokens()
    }

    /// Replaces the client's tokens (all clones see the change).
    pub fn set_tokens(&self, tokens: TokenSet) {
        self.tokens_manager().set_tokens(tokens);
    }

    fn oauth(&self) -> &OAuth {
        self.tokens_manager().oauth()
    }

    /// The URL to send the athlete to for authorization (see [`crate::auth`]).
    ///
    /// ```
    /// use stravalib::auth::{ApprovalPrompt, Scope};
    /// let url = stravalib::Client::new()
    ///     .api()
    ///     .authorization_url(
    ///         1234,
    ///         "http://127.0.0.1:8000/authorization",
    ///         ApprovalPrompt::Auto,
    ///         &[Scope::Read, Scope::ActivityRead],
    ///         Some("xyz"),
    ///     )
    ///     .unwrap();
    /// assert!(url.as_str().starts_with("https://www.strava.com/oauth/authorize?client_id=1234"));
    /// ```
    pub fn authorization_url(
        &self,
        client_id: u64,
        redirect_uri: &str,
        approval_prompt: ApprovalPrompt,
        scopes: &[Scope],
        state: Option<&str>,
    ) -> Result<Url> {
        crate::auth::authorization_url_for(
            self.oauth().authorization_request(client_id, redirect_uri),
            approval_prompt,
            scopes,
            state,
        )
    }

    /// Exchanges the code from the redirect for tokens, keeps them in this client (and
    /// its token store) and returns them.
    pub async fn exchange_code_for_token(
        &self,
        client_id: u64,
        client_secret: impl Into<Secret>,
        code: impl Into<Secret>,
    ) -> Result<TokenSet> {
        let tokens = self
            .oauth()
            .exchange_code_for_token(client_id, client_secret, code)
            .await?;
        self.adopt(&tokens).await?;
        Ok(tokens)
    }

    /// Gets a new token set with a refresh token, keeps it in this client (and its token
    /// store) and returns it.
    pub async fn refresh_access_token(
        &self,
        client_id: u64,
        client_secret: impl Into<Secret>,
        refresh_token: impl Into<Secret>,
    ) -> Result<TokenSet> {
        let tokens = self
            .oauth()
            .refresh_access_token(client_id, client_secret, refresh_token)
            .await?;
        self.adopt(&tokens).await?;
        Ok(tokens)
    }

    async fn adopt(&self, tokens: &TokenSet) -> Result<()> {
        if let Some(store) = self.tokens_manager().store() {
            store.save(tokens).await?;
        }
        self.set_tokens(tokens.clone());
        Ok(())
    }

    /// Revokes `token` (access or refresh; revoking either revokes both) with the
    /// client's credentials.
    pub async fn revoke(
        &self,
        token: impl Into<Secret>,
        hint: Option<TokenTypeHint>,
    ) -> Result<()> {
        let credentials = self.tokens_manager().credentials().ok_or_else(|| {
            Error::invalid_input("revoke needs client credentials: set them on the builder")
        })?;
        self.oauth()
            .revoke(
                credentials.client_id,
                &credentials.client_secret,
                token,
                hint,
            )
            .await
    }

    /// Deauthorizes the app for the athlete of the current access token.
    #[deprecated(note = "Strava retires /oauth/deauthorize on 2027-06-01; use `revoke`")]
    pub async fn deauthorize(&self) -> Result<()> {
        let token = self
            .tokens_manager()
            .bearer()
            .await?
            .ok_or_else(|| Error::invalid_input("deauthorize needs an access token"))?;
        #[allow(deprecated)]
        self.oauth().deauthorize(token).await
    }
}
