//! Uploads processed "in the background": by the sandbox clock, when polled, or when a
//! ticker notices their time has come.

use std::sync::Arc;

use crate::inner::Inner;
use crate::state::{ActivityFields, Created, Parsed, State, UploadState};
use crate::streams;
use crate::world;

/// Finishes uploads whose processing time has passed by the sandbox clock.
pub(crate) fn settle(inner: &Inner, state: &mut State) {
    let now = inner.now();
    let due: Vec<u64> = state
        .uploads
        .values()
        .filter(|u| {
            matches!(u.state, UploadState::Processing)
                && (u.polls >= inner.config.upload_polls
                    || now >= u.created_at + inner.config.upload_time.as_secs() as i64)
        })
        .map(|u| u.id)
        .collect();
    for id in due {
        finish(inner, state, id);
    }
}

/// Ends an upload's processing: a duplicate, a bad file, or a new activity.
pub(crate) fn finish(inner: &Inner, state: &mut State, id: u64) {
    let Some(u) = state.uploads.get(&id).cloned() else {
        return;
    };
    let Parsed::Activity(p) = &u.parsed else {
        if let Some(x) = state.uploads.get_mut(&id) {
            x.state = UploadState::Failed("Improperly formatted data".to_owned());
        }
        return;
    };
    let external = u.external_id.clone().unwrap_or_else(|| u.file_name.clone());
    let duplicate = state.uploads.values().find_map(|other| match other.state {
        UploadState::Ready(activity)
            if other.id != u.id
                && other.athlete == u.athlete
                && !state.deleted.contains(&activity)
                && (other.digest == u.digest
                    || other
                        .external_id
                        .clone()
                        .unwrap_or_else(|| other.file_name.clone())
                        == external) =>
        {
            Some(activity)
        }
        _ => None,
    });
    if let Some(activity) = duplicate {
        if let Some(x) = state.uploads.get_mut(&id) {
            x.state =
                UploadState::Failed(format!("{} duplicate of activity {activity}", u.file_name));
        }
        return;
    }
    let world = &inner.world;
    let athlete = &world.athletes[u.athlete];
    let s = streams::recorded(&p.points);
    let start = p.start.unwrap_or(u.created_at);
    let elapsed = p.points.last().map_or(0, |x| x.t);
    let distance = s
        .distance
        .as_ref()
        .and_then(|d| d.last().copied())
        .unwrap_or(0.0);
    let moving = match &s.distance {
        Some(d) => (1..s.len())
            .filter(|&i| {
                let dt = s.time[i] - s.time[i - 1];
                dt > 0 && dt <= 30 && (d[i] - d[i - 1]) / dt as f64 > 0.5
            })
            .map(|i| s.time[i] - s.time[i - 1])
            .sum(),
        None => elapsed,
    };
    let gain = s
        .altitude
        .as_ref()
        .map_or(0.0, |a| streams::climbing(a, 2.0));
    let utc_offset = athlete.city().utc_offset(start);
    let sport_type = u
        .sport_type
        .clone()
        .or_else(|| p.sport_type.clone())
        .unwrap_or_else(|| "Ride".to_owned());
    let name = u
        .name
        .clone()
        .or_else(|| p.name.clone())
        .unwrap_or_else(|| {
            let hour = ((start + i64::from(utc_offset)).rem_euclid(86_400) / 3600) as u32;
            let label = world::Sport::from_sport_type(&sport_type)
                .map_or(sport_type.as_str(), |s| s.label());
            format!("{} {label}", world::part_of_day(hour))
        });
    let gear_id = athlete.default_gear(&sport_type);
    let activity_id = state.next_created;
    state.next_created += 1;
    state.insert_created(Created {
        fields: ActivityFields {
            id: activity_id,
            athlete: u.athlete,
            name,
            description: u.description.clone(),
            sport_type,
            start,
            utc_offset,
            distance,
            moving_time: moving.min(elapsed),
            elapsed_time: elapsed,
            elevation_gain: gain,
            trainer: u.trainer,
            commute: u.commute,
            manual: false,
            private: false,
            hide_from_home: false,
            gear_id,
            upload_id: Some(u.id),
            external_id: Some(external),
            device_name: p.device_name.clone(),
        },
        points: Some(Arc::new(p.points.clone())),
    });
    if let Some(x) = state.uploads.get_mut(&id) {
        x.state = UploadState::Ready(activity_id);
    }
    inner.emit(
        state,
        "activity",
        activity_id,
        "create",
        serde_json::Map::new(),
        athlete.id,
    );
}
