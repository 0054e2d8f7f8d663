//! One recorded sample of an uploaded file, shared by the parser, the state and the streams.

/// One recorded sample of an uploaded file.
#[derive(Clone, Debug, Default)]
pub(crate) struct RecordedPoint {
    /// Seconds since the first sample.
    pub(crate) t: i64,
    pub(crate) latlng: Option<(f64, f64)>,
    pub(crate) altitude: Option<f64>,
    pub(crate) heartrate: Option<f64>,
    pub(crate) cadence: Option<f64>,
    pub(crate) watts: Option<f64>,
    pub(crate) temp: Option<f64>,
    /// Cumulative distance in meters, when the file has it.
    pub(crate) distance: Option<f64>,
}
