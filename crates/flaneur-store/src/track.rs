//! The line a sequence draws on the map, as stored next to it: its pictures' positions in rank
//! order, broken where two pictures are far apart, and a coarser copy for low zooms.
//!
//! Catalogs store these when a sequence's pictures change, so tiles read lines instead of
//! pictures. Drawing them into tiles is left to the tile service.

/// A line is broken between two consecutive pictures farther apart than this, in metres.
pub const MAX_GAP_M: f64 = 75.0;

/// Tolerance of the coarse copy drawn at the first sequence zoom, in degrees (Panoramax
/// simplifies with PostGIS's `ST_Simplify` at this tolerance).
pub const SIMPLIFY_DEG: f64 = 0.01;

/// Positions in rank order, cut where consecutive ones are more than [`MAX_GAP_M`] apart.
pub fn split_at_gaps(points: &[[f64; 2]]) -> Vec<Vec<[f64; 2]>> {
    let mut parts: Vec<Vec<[f64; 2]>> = Vec::new();
    let mut current: Vec<[f64; 2]> = Vec::new();
    for &here in points {
        if current
            .last()
            .is_some_and(|&last| distance_m(last, here) > MAX_GAP_M)
        {
            parts.push(std::mem::take(&mut current));
        }
        current.push(here);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// A line with the points dropped that lie within `tolerance` degrees of the simplified line
/// (Douglas–Peucker, as `ST_Simplify`); both ends are kept.
pub fn simplify(line: &[[f64; 2]], tolerance: f64) -> Vec<[f64; 2]> {
    if line.len() < 3 {
        return line.to_vec();
    }
    let mut keep = vec![false; line.len()];
    keep[0] = true;
    keep[line.len() - 1] = true;
    // An explicit stack: long sequences would recurse thousands of levels deep.
    let mut spans = vec![(0, line.len() - 1)];
    while let Some((first, last)) = spans.pop() {
        let (mut far, mut far_d) = (first, 0.0);
        for i in first + 1..last {
            let d = segment_distance(line[i], line[first], line[last]);
            if d > far_d {
                (far, far_d) = (i, d);
            }
        }
        if far_d > tolerance {
            keep[far] = true;
            spans.push((first, far));
            spans.push((far, last));
        }
    }
    line.iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

/// Planar distance from `p` to segment `a`–`b`, in the units of the coordinates.
fn segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let d = [b[0] - a[0], b[1] - a[1]];
    let len2 = d[0] * d[0] + d[1] * d[1];
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / len2).clamp(0.0, 1.0)
    };
    let q = [a[0] + t * d[0], a[1] + t * d[1]];
    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
}

/// Distance between two `(lon, lat)` positions on the sphere, in metres.
pub fn distance_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let (lat1, lat2) = (a[1].to_radians(), b[1].to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b[0] - a[0]).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

/// The 90th percentile of the known position errors among `errors`, in metres: the figure a
/// sequence gives for the accuracy of its pictures; `None` when none is known.
pub fn accuracy_p90(errors: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut known: Vec<f64> = errors.into_iter().filter(|a| a.is_finite()).collect();
    known.sort_by(f64::total_cmp);
    let rank = (0.9 * known.len() as f64).ceil() as usize;
    known.get(rank.checked_sub(1)?).copied()
}

/// Lines as bytes for storage: a count of lines, then per line a count of points and the
/// points as `(lon, lat)` pairs; counts are little-endian `u32`, coordinates `f64`. About
/// ten times faster to read back than JSON for lines of hundreds of points.
pub fn encode_lines(lines: &[Vec<[f64; 2]>]) -> Vec<u8> {
    let points: usize = lines.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(4 + 4 * lines.len() + 16 * points);
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    out.extend_from_slice(&count(lines.len()));
    for line in lines {
        out.extend_from_slice(&count(line.len()));
        for p in line {
            out.extend_from_slice(&p[0].to_le_bytes());
            out.extend_from_slice(&p[1].to_le_bytes());
        }
    }
    out
}

/// The inverse of [`encode_lines`]; `None` when the bytes are cut short or malformed.
pub fn decode_lines(bytes: &[u8]) -> Option<Vec<Vec<[f64; 2]>>> {
    let mut rest = bytes;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let count = |raw: &[u8]| -> Option<usize> {
        let raw = <[u8; 4]>::try_from(raw).ok()?;
        usize::try_from(u32::from_le_bytes(raw)).ok()
    };
    let coordinate = |raw: &[u8]| <[u8; 8]>::try_from(raw).ok().map(f64::from_le_bytes);

    let nb_lines = count(take(4)?)?;
    let mut lines = Vec::with_capacity(nb_lines.min(bytes.len() / 4));
    for _ in 0..nb_lines {
        let nb_points = count(take(4)?)?;
        let raw = take(nb_points.checked_mul(16)?)?;
        let line = raw
            .chunks_exact(16)
            .map(|c| Some([coordinate(&c[..8])?, coordinate(&c[8..])?]))
            .collect::<Option<Vec<_>>>()?;
        lines.push(line);
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_where_pictures_are_far_apart() {
        // 0.0005° of latitude is about 56 m, 0.001° about 111 m.
        let lats = [48.0, 48.0005, 48.001, 48.002, 48.0025];
        let parts = split_at_gaps(&lats.map(|lat| [2.0, lat]));
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 2]);
        assert!(split_at_gaps(&[]).is_empty());
    }

    #[test]
    fn simplifying_keeps_the_ends_and_the_corners() {
        let line = [
            [0.0, 0.0],
            [0.5, 0.001],
            [1.0, 0.0],
            [1.0, 1.0],
            [1.001, 1.5],
        ];
        assert_eq!(
            simplify(&line, 0.01),
            vec![[0.0, 0.0], [1.0, 0.0], [1.001, 1.5]]
        );
        assert_eq!(simplify(&line[..2], 0.01), line[..2].to_vec());
    }

    #[test]
    fn lines_survive_storage() {
        let lines = vec![vec![[1.5, -2.25], [3.0, 4.0]], vec![], vec![[0.1, 0.2]]];
        let bytes = encode_lines(&lines);
        assert_eq!(decode_lines(&bytes), Some(lines));
        assert_eq!(decode_lines(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode_lines(&[]), None);
    }

    #[test]
    fn distances_are_in_metres() {
        let d = distance_m([1.9192, 49.0069], [1.9192, 49.0079]);
        assert!((d - 111.2).abs() < 0.5, "{d}");
    }
}
