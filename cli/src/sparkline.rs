//! Terminal sparklines: a series resampled over distance (or time) into a row of block
//! characters, `▁▂▃▄▅▆▇█`.

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `values` sampled at `positions` (increasing: distance or time), averaged into `width`
/// equal slices of the position range. `None` when there is nothing to draw. A slice
/// without samples repeats the one before it.
pub fn resample(positions: &[f64], values: &[Option<f64>], width: usize) -> Option<Vec<f64>> {
    let n = positions.len().min(values.len());
    let (first, last) = (positions.first()?, positions.get(n.checked_sub(1)?)?);
    let span = last - first;
    if width == 0 || !span.is_finite() || span <= 0.0 {
        return None;
    }
    let mut sums = vec![0.0; width];
    let mut counts = vec![0usize; width];
    for i in 0..n {
        let Some(v) = values[i].filter(|v| v.is_finite()) else {
            continue;
        };
        let at = ((positions[i] - first) / span * width as f64).floor();
        let slot = (at.max(0.0) as usize).min(width - 1);
        sums[slot] += v;
        counts[slot] += 1;
    }
    if counts.iter().all(|&c| c == 0) {
        return None;
    }
    let mut out = Vec::with_capacity(width);
    let mut previous = None;
    for slot in 0..width {
        let value = if counts[slot] > 0 {
            Some(sums[slot] / counts[slot] as f64)
        } else {
            previous
        };
        previous = value;
        out.push(value);
    }
    // Leading empty slices take the first value.
    let first_value = out.iter().flatten().next().copied()?;
    Some(out.into_iter().map(|v| v.unwrap_or(first_value)).collect())
}

/// The sparkline of `values`, scaled between their minimum and maximum.
pub fn draw(values: &[f64]) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|v| {
            if max - min <= f64::EPSILON {
                BLOCKS[3]
            } else {
                let level = ((v - min) / (max - min) * 7.0).round() as usize;
                BLOCKS[level.min(7)]
            }
        })
        .collect()
}

/// The minimum and maximum of `values`.
pub fn range(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resamples_and_draws() {
        let positions: Vec<f64> = (0..100).map(f64::from).collect();
        let values: Vec<Option<f64>> = (0..100).map(|i| Some(f64::from(i))).collect();
        let line = resample(&positions, &values, 8).unwrap();
        assert_eq!(line.len(), 8);
        assert!(line.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(draw(&line), "▁▂▃▄▅▆▇█");
        assert_eq!(draw(&[5.0, 5.0]), "▄▄");
    }

    #[test]
    fn gaps_and_nothing() {
        let positions = [0.0, 1.0, 2.0, 10.0];
        let values = [None, Some(3.0), None, Some(7.0)];
        let line = resample(&positions, &values, 5).unwrap();
        assert_eq!(line, [3.0, 3.0, 3.0, 3.0, 7.0]);
        assert!(resample(&positions, &[None; 4], 5).is_none());
        assert!(resample(&[1.0], &[Some(1.0)], 5).is_none());
        assert!(resample(&[], &[], 5).is_none());
    }
}
