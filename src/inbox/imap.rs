//! Takes mail in from the task-force mailbox over IMAP (docs/operating/imap.md).
//!
//! Progress is the highest UID of the mailbox's UIDVALIDITY below which every mail is
//! stored, kept in the database, never a sequence number. A mail is fetched with
//! `BODY.PEEK[]` (nothing changes on the server), handed to `mail_in::take`, and flagged
//! `\Seen` (or moved) only once that answered that it is stored. A crash in between means
//! the mail is fetched again and the ledger answers "duplicate".

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::rustls;

use crate::app::mail_in::{self, Origin};
use crate::app::AppState;
use crate::config::ImapSettings;
use crate::db::{self, DbError};

/// A network step that takes longer than this is a dead connection.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// Fetching one mail may take longer: it can be tens of megabytes.
const FETCH_TIMEOUT: Duration = Duration::from_secs(300);
/// RFC 2177: a client re-issues IDLE at least every 29 minutes.
const MAX_IDLE: Duration = Duration::from_secs(29 * 60);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(300);

/// Why the mailbox could not be read. The texts name the kind of failure only: nothing a
/// server or a mail said reaches the log.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to the IMAP server ({0})")]
    Connect(std::io::ErrorKind),
    #[error("the TLS handshake with the IMAP server failed ({0})")]
    Tls(std::io::ErrorKind),
    #[error("the IMAP server refused the login")]
    Login,
    #[error("the IMAP server has no such mailbox, or refused to open it")]
    Select,
    #[error("the IMAP server gives the mailbox no UIDVALIDITY")]
    NoUidValidity,
    #[error("IMAP_MOVE_TO is set but the IMAP server has no MOVE")]
    NoMove,
    #[error("the IMAP server did not answer in time")]
    Timeout,
    #[error("IMAP protocol error ({0})")]
    Protocol(&'static str),
    #[error("the mail could not be stored; it stays on the server")]
    Take(#[source] crate::app::Error),
    #[error("the database is unavailable")]
    Db(#[from] DbError),
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        use async_imap::error::Error as E;
        ImapError::Protocol(match e {
            E::Io(_) | E::ConnectionLost => "connection lost",
            E::Bad(_) => "the server answered BAD",
            E::No(_) => "the server answered NO",
            E::Parse(_) => "unreadable answer",
            E::Validate(_) => "invalid command argument",
            E::Append => "append refused",
            _ => "other",
        })
    }
}

/// Runs `step` with a deadline, mapping its error.
async fn timed<T, E: Into<ImapError>>(
    limit: Duration,
    step: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(limit, step).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(ImapError::Timeout),
    }
}

/// The IMAP intake: one connection to the mailbox, taken up again with a growing delay
/// after every failure, until `stop` fires.
pub struct ImapWorker {
    app: AppState,
    settings: ImapSettings,
    stop: watch::Receiver<bool>,
}

impl ImapWorker {
    pub fn new(app: AppState, settings: ImapSettings, stop: watch::Receiver<bool>) -> Self {
        ImapWorker {
            app,
            settings,
            stop,
        }
    }

    pub async fn run(mut self) {
        tracing::info!(
            mailbox = %self.settings.url.redacted(),
            "taking mail in over IMAP"
        );
        let mut retry = FIRST_RETRY;
        while !*self.stop.borrow() {
            let mut connected = false;
            match self.session(&mut connected).await {
                Ok(()) => break,
                Err(e) => {
                    if connected {
                        retry = FIRST_RETRY;
                    }
                    self.app.metrics.imap_error();
                    tracing::warn!(
                        error = %e,
                        retry_in_secs = retry.as_secs(),
                        "IMAP intake interrupted"
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(retry) => {}
                        _ = self.stop.changed() => {}
                    }
                    retry = (retry * 2).min(MAX_RETRY);
                }
            }
        }
        tracing::info!("IMAP intake stopped");
    }

    /// One connection, from connect to logout; `Ok` only when told to stop.
    async fn session(&mut self, connected: &mut bool) -> Result<(), ImapError> {
        let url = &self.settings.url;
        let tcp = timed(STEP_TIMEOUT, async {
            TcpStream::connect((url.host.as_str(), url.port))
                .await
                .map_err(|e| ImapError::Connect(e.kind()))
        })
        .await?;
        if url.tls {
            let tls = timed(STEP_TIMEOUT, tls_connect(&url.host, tcp)).await?;
            self.serve(Client::new(tls), connected).await
        } else {
            self.serve(Client::new(tcp), connected).await
        }
    }

    async fn serve<T>(
        &mut self,
        mut client: Client<T>,
        connected: &mut bool,
    ) -> Result<(), ImapError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
    {
        use secrecy::ExposeSecret;
        timed(STEP_TIMEOUT, async {
            client
                .read_response()
                .await
                .map_err(|_| ImapError::Protocol("no greeting"))?
                .ok_or(ImapError::Protocol("no greeting"))
        })
        .await?;
        let login = client.login(
            &self.settings.url.user,
            self.settings.password.expose_secret(),
        );
        let mut session = match tokio::time::timeout(STEP_TIMEOUT, login).await {
            Ok(Ok(session)) => session,
            Ok(Err(_)) => return Err(ImapError::Login),
            Err(_) => return Err(ImapError::Timeout),
        };
        let capabilities = timed(STEP_TIMEOUT, session.capabilities()).await?;
        let idle = capabilities.has_str("IDLE");
        if self.settings.move_to.is_some() && !capabilities.has_str("MOVE") {
            return Err(ImapError::NoMove);
        }
        tracing::info!(idle, "IMAP connection open");
        loop {
            // Selected anew every round: the answer carries the UIDVALIDITY, and a folder
            // deleted and made again under an open session shows up only this way.
            let validity = select(&mut session, &self.settings.url.mailbox).await?;
            *connected = true;
            self.take_new(&mut session, validity).await?;
            if *self.stop.borrow() {
                break;
            }
            if idle {
                session = self.idle(session).await?;
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.poll) => {}
                    _ = self.stop.changed() => {}
                }
            }
            if *self.stop.borrow() {
                break;
            }
        }
        // Best effort: the server drops a session whose connection closes anyway.
        let _ = tokio::time::timeout(STEP_TIMEOUT, session.logout()).await;
        Ok(())
    }

    /// Takes in every mail above the stored progress, in UID order, one at a time.
    async fn take_new<T>(
        &mut self,
        session: &mut Session<T>,
        validity: u32,
    ) -> Result<(), ImapError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
    {
        let account = Arc::new(self.settings.url.account());
        let key = account.clone();
        let mut last = db::run(&self.app.pool, move |conn| {
            db::imap::last_uid(conn, &key, validity)
        })
        .await?
        .unwrap_or(0);
        loop {
            // `n:*` always names the highest UID, even when it is below `n`.
            let query = format!("UID {}:*", last.saturating_add(1));
            let mut uids: Vec<u32> = timed(STEP_TIMEOUT, session.uid_search(query))
                .await?
                .into_iter()
                .filter(|uid| *uid > last)
                .collect();
            if uids.is_empty() {
                return Ok(());
            }
            uids.sort_unstable();
            for uid in uids {
                if *self.stop.borrow() {
                    return Ok(());
                }
                if let Some(raw) = fetch(session, uid).await? {
                    // `take` logs the ledger id, the outcome and the origin.
                    mail_in::take(&self.app, raw, Origin::Imap)
                        .await
                        .map_err(ImapError::Take)?;
                    self.mark(session, uid).await?;
                }
                let key = account.clone();
                db::run(&self.app.pool, move |conn| {
                    db::imap::advance(conn, &key, validity, uid)
                })
                .await?;
                last = uid;
            }
        }
    }

    /// Flags a stored mail `\Seen`, or moves it to `IMAP_MOVE_TO`.
    async fn mark<T>(&self, session: &mut Session<T>, uid: u32) -> Result<(), ImapError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
    {
        let uid = uid.to_string();
        match &self.settings.move_to {
            Some(folder) => timed(STEP_TIMEOUT, session.uid_mv(&uid, folder)).await,
            None => {
                timed(STEP_TIMEOUT, async {
                    let updates = session.uid_store(&uid, "+FLAGS.SILENT (\\Seen)").await?;
                    updates.try_for_each(|_| async { Ok(()) }).await
                })
                .await
            }
        }
    }

    /// Waits in IDLE until the mailbox changes, `IMAP_POLL_SECS` pass, or `stop` fires.
    async fn idle<T>(&mut self, session: Session<T>) -> Result<Session<T>, ImapError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
    {
        let mut handle = session.idle();
        timed(STEP_TIMEOUT, handle.init()).await?;
        let limit = self.settings.poll.min(MAX_IDLE);
        {
            let (wait, _interrupt) = handle.wait_with_timeout(limit);
            // The crate's timeout restarts with every keep-alive the server sends; this one
            // holds for the whole wait.
            tokio::select! {
                woke = tokio::time::timeout(limit, wait) => match woke {
                    Ok(Ok(IdleResponse::NewData(_) | IdleResponse::Timeout
                        | IdleResponse::ManualInterrupt)) | Err(_) => {}
                    Ok(Err(e)) => return Err(e.into()),
                },
                _ = self.stop.changed() => {}
            }
        }
        timed(STEP_TIMEOUT, handle.done()).await
    }
}

/// Opens `mailbox` and answers its UIDVALIDITY.
async fn select<T>(session: &mut Session<T>, mailbox: &str) -> Result<u32, ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
{
    match timed(STEP_TIMEOUT, session.select(mailbox)).await {
        Ok(mailbox) => mailbox.uid_validity.ok_or(ImapError::NoUidValidity),
        Err(ImapError::Protocol(_)) => Err(ImapError::Select),
        Err(e) => Err(e),
    }
}

/// The whole message of `uid` as stored, without setting `\Seen`; `None` when it is gone
/// (expunged by someone else since the search).
async fn fetch<T>(session: &mut Session<T>, uid: u32) -> Result<Option<Vec<u8>>, ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + Debug + Send,
{
    timed(FETCH_TIMEOUT, async {
        let mut fetches = session
            .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
            .await?;
        let mut raw = None;
        while let Some(fetch) = fetches.try_next().await? {
            // Unsolicited FETCH answers (another client's flag change) may come along.
            if fetch.uid == Some(uid) {
                if let Some(body) = fetch.body() {
                    raw = Some(body.to_vec());
                }
            }
        }
        Ok::<_, async_imap::error::Error>(raw)
    })
    .await
}

/// TLS to `host` with the web's root certificates (the same as outgoing mail).
async fn tls_connect(
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|_| ImapError::Tls(std::io::ErrorKind::Unsupported))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| ImapError::Tls(std::io::ErrorKind::InvalidInput))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| ImapError::Tls(e.kind()))
}
