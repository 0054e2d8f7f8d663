//! Uploading activity files and waiting for Strava to turn them into activities.
//!
//! An upload is a multipart `POST /uploads` (written by hand: the generated client cannot
//! send multipart bodies) through the same pipeline as every other call, so tokens, rate
//! limits and errors behave the same. Strava answers at once with an upload that is still
//! being processed; an [`UploadHandle`] polls it (`GET /uploads/{id}`) until the activity
//! is ready, processing failed, or a timeout passes.
//!
//! ```no_run
//! use std::time::Duration;
//! use stravalib::upload::UploadFile;
//!
//! # async fn run() -> Result<(), stravalib::upload::UploadError> {
//! let client = stravalib::Client::with_access_token("an-access-token");
//! let file = UploadFile::from_path("morning-ride.fit").await?;
//! // The data type (`fit`) comes from the file name; `upload_activity` takes it explicitly.
//! let mut upload = client
//!     .upload(file)
//!     .name("Morning ride")
//!     .commute(true)
//!     .send()
//!     .await?;
//! let activity_id = upload
//!     .wait(Duration::from_secs(60), Duration::from_secs(2))
//!     .await?;
//! println!("activity {activity_id} is ready");
//! # Ok(()) }
//! ```
//!
//! ## Refused before sending
//!
//! Some uploads Strava would only reject are refused locally, so nothing is sent:
//!
//! - an empty file: [`UploadFile::from_path`] fails on a 0-byte file, and
//!   [`UploadBuilder::send`] on empty bytes, both with [`UploadError::File`] naming the file.
//!   A file streamed from a reader ([`UploadFile::from_reader`]) has no length before it is
//!   sent, so an empty reader cannot be caught: Strava's answer is the error;
//! - with no data type given ([`Client::upload`]), a file name that is none of Strava's
//!   data types (`.fit`, `.tcx`, `.gpx`, each optionally `.gz`):
//!   [`UploadError::UnsupportedFileType`] naming the file.
//!
//! `send` returns them as an [`Error`] of kind [`ErrorKind::InvalidInput`] that
//! [`is_local`](Error::is_local), with the [`UploadError`] as its
//! [`source`](std::error::Error::source).
//!
//! ## Errors
//!
//! Sending the upload and polling it return the crate's [`Error`]. Waiting returns an
//! [`UploadError`] instead, so the ways an upload ends badly (a duplicate of an existing
//! activity, a file Strava could not process, the activity deleted, a timeout) can be
//! matched on directly; any API error along the way is [`UploadError::Api`]. Both convert
//! into each other with `?`: an `UploadError` turned into an [`Error`] keeps itself as the
//! error's [`source`](std::error::Error::source).

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::id::Id;
use crate::types::{DetailedActivity, Upload};

/// The format of an uploaded file: `fit`, `fit.gz`, `tcx`, `tcx.gz`, `gpx`, `gpx.gz`.
///
/// The generated open enum [`UploadDataType`](crate::types::UploadDataType), under a
/// shorter name.
pub use crate::types::UploadDataType as DataType;

/// Largest chunk read at once from an [`UploadFile::from_reader`] source.
const READ_CHUNK: usize = 64 * 1024;

/// The shortest interval [`UploadHandle::wait`] polls at (Strava asks for no more than one
/// status request per second).
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The file name extensions of Strava's data types, as [`DataType::from_file_name`] knows
/// them (for messages).
const KNOWN_EXTENSIONS: &str = ".fit, .tcx, .gpx, .fit.gz, .tcx.gz or .gpx.gz";

impl DataType {
    /// The data type a file name's extension implies (`ride.fit.gz` is `fit.gz`), ignoring
    /// case; `None` for any other extension (see [`UploadFile::data_type`] for the same
    /// as a typed error).
    ///
    /// ```
    /// use stravalib::upload::DataType;
    /// assert_eq!(DataType::from_file_name("Ride.FIT"), Some(DataType::Fit));
    /// assert_eq!(DataType::from_file_name("/tmp/run.gpx.gz"), Some(DataType::GpxGz));
    /// assert_eq!(DataType::from_file_name("notes.txt"), None);
    /// ```
    pub fn from_file_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        [
            (".fit.gz", DataType::FitGz),
            (".tcx.gz", DataType::TcxGz),
            (".gpx.gz", DataType::GpxGz),
            (".fit", DataType::Fit),
            (".tcx", DataType::Tcx),
            (".gpx", DataType::Gpx),
        ]
        .into_iter()
        .find(|(suffix, _)| lower.ends_with(suffix))
        .map(|(_, data_type)| data_type)
    }
}

/// The file part of an upload: bytes in memory, a file read from disk, or an async reader
/// streamed as it is sent.
pub struct UploadFile {
    file_name: String,
    content: Content,
}

enum Content {
    Bytes(Bytes),
    Reader(Pin<Box<dyn AsyncRead + Send + 'static>>),
}

impl fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UploadFile");
        d.field("file_name", &self.file_name);
        match &self.content {
            Content::Bytes(bytes) => d.field("len", &bytes.len()),
            Content::Reader(_) => d.field("content", &"<reader>"),
        };
        d.finish()
    }
}

impl UploadFile {
    /// A file held in memory; `file_name` is the name Strava sees.
    pub fn from_bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self {
            file_name: file_name.into(),
            content: Content::Bytes(bytes.into()),
        }
    }

    /// Reads the file at `path` (its last path component is the name Strava sees). An
    /// unreadable or empty (0-byte) file is an [`UploadError::File`] naming the path.
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self, UploadError> {
        let path = path.as_ref();
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|source| UploadError::File {
                path: path.to_path_buf(),
                source,
            })?;
        if bytes.is_empty() {
            return Err(UploadError::empty_file(path));
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "activity".to_owned());
        Ok(Self::from_bytes(file_name, bytes))
    }

    /// A file streamed from `reader` while the request is sent, without holding it in
    /// memory. Such a request is sent once and never retried: its body cannot be replayed.
    /// A read error fails the request.
    ///
    /// Its length is unknown until it has been sent, so unlike a file in memory or on disk
    /// an empty reader is not refused locally: it is sent, and Strava's answer is the error.
    pub fn from_reader(
        file_name: impl Into<String>,
        reader: impl AsyncRead + Send + 'static,
    ) -> Self {
        Self {
            file_name: file_name.into(),
            content: Content::Reader(Box::pin(reader)),
        }
    }

    /// The name Strava sees.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The data type the file name's extension implies (see [`DataType::from_file_name`]).
    pub fn inferred_data_type(&self) -> Option<DataType> {
        DataType::from_file_name(&self.file_name)
    }

    /// The data type the file name's extension implies, or
    /// [`UploadError::UnsupportedFileType`] naming the file when it is none of Strava's
    /// (`.fit`, `.tcx`, `.gpx`, each optionally `.gz`). This is what [`Client::upload`]
    /// sends as the data type.
    ///
    /// ```
    /// use stravalib::upload::{DataType, UploadError, UploadFile};
    /// let ride = UploadFile::from_bytes("ride.gpx.gz", &b"..."[..]);
    /// assert_eq!(ride.data_type().unwrap(), DataType::GpxGz);
    /// let notes = UploadFile::from_bytes("notes.txt", &b"..."[..]);
    /// assert!(matches!(notes.data_type(), Err(UploadError::UnsupportedFileType { .. })));
    /// ```
    pub fn data_type(&self) -> Result<DataType, UploadError> {
        self.inferred_data_type()
            .ok_or_else(|| UploadError::UnsupportedFileType {
                file_name: self.file_name.clone(),
            })
    }

    /// `Err` when the content is known to be empty (bytes in memory); a reader cannot be
    /// checked before it is sent.
    fn check_not_empty(&self) -> Result<(), UploadError> {
        match &self.content {
            Content::Bytes(bytes) if bytes.is_empty() => {
                Err(UploadError::empty_file(Path::new(&self.file_name)))
            }
            _ => Ok(()),
        }
    }

    fn into_part(self) -> Part {
        let part = match self.content {
            Content::Bytes(bytes) => {
                let len = bytes.len() as u64;
                Part::stream_with_length(reqwest::Body::from(bytes), len)
            }
            Content::Reader(reader) => {
                let chunks = futures::stream::try_unfold(reader, |mut reader| async move {
                    let mut buf = vec![0u8; READ_CHUNK];
                    let n = reader.read(&mut buf).await?;
                    if n == 0 {
                        return Ok::<_, std::io::Error>(None);
                    }
                    buf.truncate(n);
                    Ok(Some((Bytes::from(buf), reader)))
                });
                Part::stream(reqwest::Body::wrap_stream(chunks))
            }
        };
        part.file_name(self.file_name)
    }
}

impl Client {
    /// Starts an upload of `file` as `data_type`; set the optional fields on the builder
    /// and finish with [`UploadBuilder::send`]. Needs the `activity:write` scope.
    ///
    /// The data type is sent as given, whatever the file name (see [`upload`](Self::upload)
    /// to take it from the name). An empty file is refused when sending (see the
    /// [module docs](crate::upload#refused-before-sending)).
    pub fn upload_activity(&self, file: UploadFile, data_type: DataType) -> UploadBuilder {
        self.upload(file).data_type(data_type)
    }

    /// Starts an upload of `file` as the data type its name says (see
    /// [`UploadFile::data_type`]): `ride.fit` as `fit`, `run.gpx.gz` as `gpx.gz`. Sending
    /// refuses, without sending anything, a name that is none of Strava's data types
    /// ([`UploadError::UnsupportedFileType`]) unless one is set with
    /// [`UploadBuilder::data_type`], and an empty file ([`UploadError::File`]). Needs the
    /// `activity:write` scope.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), stravalib::upload::UploadError> {
    /// use stravalib::upload::UploadFile;
    /// let client = stravalib::Client::with_access_token("an-access-token");
    /// let file = UploadFile::from_path("evening-run.tcx.gz").await?;
    /// let upload = client.upload(file).name("Evening run").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn upload(&self, file: UploadFile) -> UploadBuilder {
        UploadBuilder {
            client: self.clone(),
            file,
            data_type: None,
            name: None,
            description: None,
            trainer: None,
            commute: None,
            external_id: None,
        }
    }

    /// A handle on an upload started earlier (by id, for example after a restart), with
    /// its current state fetched from Strava.
    pub async fn resume_upload(&self, upload_id: impl Into<Id>) -> Result<UploadHandle> {
        let id = upload_id.into();
        let upload = fetch_upload(self, id).await?;
        Ok(UploadHandle {
            client: self.clone(),
            id,
            upload,
        })
    }
}

/// An upload being prepared (see [`Client::upload`] and [`Client::upload_activity`]).
#[must_use = "an upload does nothing until sent"]
#[derive(Debug)]
pub struct UploadBuilder {
    client: Client,
    file: UploadFile,
    /// `None`: taken from the file name when sending.
    data_type: Option<DataType>,
    name: Option<String>,
    description: Option<String>,
    trainer: Option<bool>,
    commute: Option<bool>,
    external_id: Option<String>,
}

impl UploadBuilder {
    /// The file's data type, sent as given (by default it comes from the file name: see
    /// [`Client::upload`]).
    pub fn data_type(mut self, data_type: DataType) -> Self {
        self.data_type = Some(data_type);
        self
    }

    /// The activity's name (Strava picks one from the file otherwise).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The activity's description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Whether the activity was done on a trainer.
    pub fn trainer(mut self, trainer: bool) -> Self {
        self.trainer = Some(trainer);
        self
    }

    /// Whether the activity is a commute.
    pub fn commute(mut self, commute: bool) -> Self {
        self.commute = Some(commute);
        self
    }

    /// Your own identifier for the upload (Strava keeps it as the upload's `external_id`).
    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    /// Sends the upload (`POST /uploads`, multipart) and returns a handle on it. Strava
    /// usually answers before it has processed the file: see [`UploadHandle::wait`].
    ///
    /// Multipart bodies are sent once: a failure is returned, never retried.
    ///
    /// Refused without sending anything, as an [`ErrorKind::InvalidInput`] error that
    /// [`is_local`](Error::is_local) with the [`UploadError`] as its source: empty bytes
    /// ([`UploadError::File`]), and with no data type set, a file name that is none of
    /// Strava's data types ([`UploadError::UnsupportedFileType`]). An empty
    /// [reader](UploadFile::from_reader) cannot be checked and is sent.
    pub async fn send(self) -> Result<UploadHandle> {
        const OPERATION: &str = "createUpload";
        let refuse = |err: UploadError| Error::from(err).with_operation(OPERATION).local();
        self.file.check_not_empty().map_err(refuse)?;
        let data_type = match self.data_type {
            Some(data_type) => data_type,
            None => self.file.data_type().map_err(refuse)?,
        };
        let flag = |value: bool| if value { "1" } else { "0" };
        let mut form = Form::new().text("data_type", data_type.as_str().to_owned());
        let texts = [
            ("name", self.name),
            ("description", self.description),
            ("trainer", self.trainer.map(|v| flag(v).to_owned())),
            ("commute", self.commute.map(|v| flag(v).to_owned())),
            ("external_id", self.external_id),
        ];
        for (field, value) in texts {
            if let Some(value) = value {
                form = form.text(field, value);
            }
        }
        form = form.part("file", self.file.into_part());
        let upload: Upload = self
            .client
            .api()
            .request(Method::POST, "uploads")
            .multipart(form)
            .operation(OPERATION)
            .send_json()
            .await?;
        let id = upload.id.ok_or_else(|| {
            Error::new(
                ErrorKind::Decode,
                "Strava's answer to the upload has no `id`",
            )
            .with_operation(OPERATION)
        })?;
        Ok(UploadHandle {
            client: self.client,
            id,
            upload,
        })
    }
}

/// Where an upload stands, from Strava's `status`, `error` and `activity_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadStatus {
    /// Still being processed ("Your activity is still being processed."). `status` is
    /// Strava's text; an unrecognised state is reported as processing too.
    Processing {
        /// Strava's status text.
        status: String,
    },
    /// The activity was created ("Your activity is ready.").
    Ready {
        /// The created activity.
        activity_id: Id,
    },
    /// Processing failed ("There was an error processing your activity."); `error` is
    /// Strava's reason, such as `ride.fit duplicate of activity 123`.
    Failed {
        /// Strava's reason.
        error: String,
    },
    /// The created activity has been deleted since.
    Deleted,
}

impl UploadStatus {
    /// Classifies an upload as Strava reported it.
    pub fn from_upload(upload: &Upload) -> Self {
        let status = upload.status.clone().unwrap_or_default();
        if let Some(error) = upload.error.as_deref().filter(|e| !e.trim().is_empty()) {
            return UploadStatus::Failed {
                error: error.to_owned(),
            };
        }
        if status.to_ascii_lowercase().contains("deleted") {
            return UploadStatus::Deleted;
        }
        match upload.activity_id {
            Some(activity_id) => UploadStatus::Ready { activity_id },
            None => UploadStatus::Processing { status },
        }
    }

    /// `false` while Strava is still processing the upload.
    pub fn is_finished(&self) -> bool {
        !matches!(self, UploadStatus::Processing { .. })
    }

    /// The created activity, once ready.
    pub fn activity_id(&self) -> Option<Id> {
        match self {
            UploadStatus::Ready { activity_id } => Some(*activity_id),
            _ => None,
        }
    }
}

/// An upload Strava has accepted: its id, its last known state, and polling until the
/// activity exists. Returned by [`UploadBuilder::send`] and [`Client::resume_upload`].
#[derive(Clone, Debug)]
pub struct UploadHandle {
    client: Client,
    id: Id,
    upload: Upload,
}

impl UploadHandle {
    /// The upload's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The upload as Strava last reported it.
    pub fn upload(&self) -> &Upload {
        &self.upload
    }

    /// The last known state, without asking Strava.
    pub fn status(&self) -> UploadStatus {
        UploadStatus::from_upload(&self.upload)
    }

    /// Asks Strava for the upload's state once (`GET /uploads/{id}`) and keeps it.
    pub async fn poll(&mut self) -> Result<UploadStatus> {
        self.upload = fetch_upload(&self.client, self.id).await?;
        Ok(self.status())
    }

    /// Polls every `interval` (at least [`MIN_POLL_INTERVAL`]) until the activity is
    /// ready and returns its id. Gives up with [`UploadError::TimedOut`] once `timeout`
    /// has passed, having polled at most `timeout / interval + 1` times; the state already
    /// known is checked first, without a request.
    ///
    /// Polls go through the client, so its rate-limit policy applies to them, and sleeps
    /// use [`tokio::time::sleep`]. A failed upload ends with [`UploadError::Duplicate`],
    /// [`UploadError::Processing`] or [`UploadError::ActivityDeleted`]; a failed poll
    /// with [`UploadError::Api`]. The handle keeps the last state, so waiting again after
    /// a timeout continues where it stopped.
    pub async fn wait(&mut self, timeout: Duration, interval: Duration) -> Result<Id, UploadError> {
        let interval = interval.max(MIN_POLL_INTERVAL);
        let started = tokio::time::Instant::now();
        let mut status = self.status();
        loop {
            match status {
                UploadStatus::Ready { activity_id } => return Ok(activity_id),
                UploadStatus::Failed { error } => return Err(UploadError::from_failure(error)),
                UploadStatus::Deleted => return Err(UploadError::ActivityDeleted),
                UploadStatus::Processing { status } => {
                    let waited = started.elapsed();
                    if waited >= timeout {
                        return Err(UploadError::TimedOut {
                            waited,
                            last_status: status,
                        });
                    }
                    tokio::time::sleep(interval.min(timeout - waited)).await;
                }
            }
            status = self.poll().await?;
        }
    }

    /// Like [`wait`](Self::wait), then fetches the created activity (`GET
    /// /activities/{id}`).
    pub async fn wait_for_activity(
        &mut self,
        timeout: Duration,
        interval: Duration,
    ) -> Result<DetailedActivity, UploadError> {
        let activity_id = self.wait(timeout, interval).await?;
        let activity = self.client.get_activity_by_id(activity_id).send().await?;
        Ok(activity)
    }
}

async fn fetch_upload(client: &Client, id: Id) -> Result<Upload> {
    client.get_upload_by_id(id).send().await
}

/// How waiting for an upload failed (see [`UploadHandle::wait`]).
///
/// This is an error of its own rather than a kind of the crate's [`Error`]: the ways an
/// upload ends badly are not failed HTTP exchanges, and matching on them is the point.
/// API errors met on the way are kept whole in [`UploadError::Api`]. Convert either way
/// with `?`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// Strava already has this file as an activity.
    #[error("the upload duplicates {}: {message}", match existing_activity_id {
        Some(id) => Cow::Owned(format!("activity {id}")),
        None => Cow::Borrowed("an existing activity"),
    })]
    Duplicate {
        /// The existing activity, when Strava's message names it.
        existing_activity_id: Option<Id>,
        /// Strava's message.
        message: String,
    },
    /// Strava could not process the file (other than as a duplicate).
    #[error("Strava could not process the upload: {message}")]
    Processing {
        /// Strava's message.
        message: String,
    },
    /// The activity the upload created has been deleted.
    #[error("the activity created by the upload has been deleted")]
    ActivityDeleted,
    /// The upload was still processing when the timeout passed.
    #[error("the upload was still processing after {waited:?}: {last_status}")]
    TimedOut {
        /// How long was waited.
        waited: Duration,
        /// Strava's last status text.
        last_status: String,
    },
    /// The file to upload could not be read, or is empty (then `source` is an
    /// [`InvalidData`](std::io::ErrorKind::InvalidData) error saying so). Nothing was sent.
    #[error("cannot upload the file {}: {source}", path.display())]
    File {
        /// The file's path (its name, for a file given as bytes).
        path: PathBuf,
        /// Why it could not be read or used.
        #[source]
        source: std::io::Error,
    },
    /// No data type was given and the file name's extension is none of Strava's data types
    /// (see [`UploadFile::data_type`]). Nothing was sent.
    #[error(
        "cannot tell the data type of the upload file {file_name}: its name does not end in \
         {KNOWN_EXTENSIONS}; rename it or set the data type"
    )]
    UnsupportedFileType {
        /// The file's name.
        file_name: String,
    },
    /// A request failed (sending the upload, polling it, fetching the activity).
    #[error(transparent)]
    Api(#[from] Error),
}

impl UploadError {
    fn empty_file(path: &Path) -> Self {
        UploadError::File {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the file is empty (0 bytes); Strava does not accept empty uploads",
            ),
        }
    }

    fn from_failure(message: String) -> Self {
        match parse_duplicate(&message) {
            Some(existing_activity_id) => UploadError::Duplicate {
                existing_activity_id,
                message,
            },
            None => UploadError::Processing { message },
        }
    }

    /// The existing activity of a [`Duplicate`](UploadError::Duplicate) upload, when known.
    pub fn existing_activity_id(&self) -> Option<Id> {
        match self {
            UploadError::Duplicate {
                existing_activity_id,
                ..
            } => *existing_activity_id,
            _ => None,
        }
    }
}

impl From<UploadError> for Error {
    /// An [`UploadError::Api`] is its error; the others become an error of kind
    /// [`ErrorKind::Timeout`] (timed out), [`ErrorKind::InvalidInput`] (unreadable or empty
    /// file, unknown file type) or [`ErrorKind::Other`], with the `UploadError` as its
    /// source.
    fn from(err: UploadError) -> Self {
        let kind = match err {
            UploadError::Api(inner) => return inner,
            UploadError::TimedOut { .. } => ErrorKind::Timeout,
            UploadError::File { .. } | UploadError::UnsupportedFileType { .. } => {
                ErrorKind::InvalidInput
            }
            _ => ErrorKind::Other,
        };
        Error::new(kind, err.to_string()).with_source(err)
    }
}

/// `Some` when Strava's error says the upload is a duplicate, with the existing activity
/// id when the text has one: `ride.fit duplicate of activity 123`, or an HTML link
/// `duplicate of <a href='/activities/123'>Morning Ride</a>`.
fn parse_duplicate(message: &str) -> Option<Option<Id>> {
    let lower = message.to_ascii_lowercase();
    let rest = &lower[lower.find("duplicate of")? + "duplicate of".len()..];
    let digits_at = |text: &str| -> Option<Id> {
        let digits: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    };
    if let Some(at) = rest.find("/activities/") {
        return Some(digits_at(&rest[at + "/activities/".len()..]));
    }
    let rest = rest.trim_start();
    if let Some(after) = rest.strip_prefix("activity") {
        return Some(digits_at(after.trim_start()));
    }
    Some(digits_at(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_messages() {
        assert_eq!(
            parse_duplicate("ride.fit duplicate of activity 16204873519"),
            Some(Some(Id::from(16_204_873_519u64)))
        );
        assert_eq!(
            parse_duplicate("a.tcx duplicate of <a href='/activities/42' target='_blank'>Run</a>"),
            Some(Some(Id::from(42u32)))
        );
        assert_eq!(
            parse_duplicate(r#"Duplicate of <a href="/activities/7">x</a>"#),
            Some(Some(Id::from(7u32)))
        );
        assert_eq!(parse_duplicate("x duplicate of an activity"), Some(None));
        assert_eq!(parse_duplicate("Improperly formatted data."), None);
    }

    #[test]
    fn states() {
        let upload = |status: &str, error: Option<&str>, activity: Option<u64>| Upload {
            activity_id: activity.map(Id::from),
            error: error.map(str::to_owned),
            id: Some(Id::from(1u32)),
            status: Some(status.to_owned()),
            ..Upload::default()
        };
        assert_eq!(
            UploadStatus::from_upload(&upload("Your activity is ready.", None, Some(5))),
            UploadStatus::Ready {
                activity_id: Id::from(5u32)
            }
        );
        assert_eq!(
            UploadStatus::from_upload(&upload(
                "The created activity has been deleted.",
                None,
                None
            )),
            UploadStatus::Deleted
        );
        assert!(matches!(
            UploadStatus::from_upload(&upload(
                "There was an error processing your activity.",
                Some("bad"),
                None
            )),
            UploadStatus::Failed { .. }
        ));
        assert!(
            !UploadStatus::from_upload(&upload(
                "Your activity is still being processed.",
                Some(""),
                None
            ))
            .is_finished()
        );
    }
}
