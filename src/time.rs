//! Time stamps: RFC 3339 text ↔ Unix milliseconds, and calendar days.
//!
//! The engine takes "now" as a parameter everywhere (the browser, the Worker and tests each pass
//! their own clock); this module only converts.

#[allow(unused_imports)]
use crate::prelude::*;

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) for days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Parses an RFC 3339 / ISO 8601 date-time such as `2026-11-24T10:00:00.123Z` or
/// `2026-11-24T11:00:00+01:00` (also a bare date `2026-11-24`, taken as midnight UTC) into Unix
/// milliseconds. Returns `None` for anything else.
///
/// ```
/// use affinity::time::{parse_rfc3339, format_rfc3339};
/// let ms = parse_rfc3339("2026-11-24T11:00:00.5+01:00").unwrap();
/// assert_eq!(format_rfc3339(ms), "2026-11-24T10:00:00.500Z");
/// ```
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&mo) {
        return None;
    }
    let month_len = match mo {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=month_len).contains(&d) {
        return None;
    }
    let day_ms = days_from_civil(y, mo, d) * DAY_MS;
    if b.len() == 10 {
        return Some(day_ms);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (h, mi) = (num(11, 2)?, num(14, 2)?);
    let (sec, mut at) = if b.get(16) == Some(&b':') {
        (num(17, 2)?, 19)
    } else {
        (0, 16)
    };
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut ms = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 3 {
                ms = ms * 10 + i64::from(b[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return None;
        }
        for _ in (at - start)..3 {
            ms *= 10;
        }
    }
    let offset_min = match b.get(at) {
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if at + 6 == b.len() && b.get(at + 3) == Some(&b':') => {
            let (oh, om) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    Some(day_ms + ((h * 60 + mi - offset_min) * 60 + sec) * 1000 + ms)
}

/// Formats Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
///
/// In the page module the JS engine writes it (`Date.prototype.toISOString`, through
/// [`crate::platform`]) and this calendar arithmetic is not linked; the page only stamps times
/// of its own clock, well within the years 0-9999 where both texts are the same.
pub fn format_rfc3339(ms: i64) -> String {
    #[cfg(all(feature = "page", target_arch = "wasm32", target_os = "unknown"))]
    {
        crate::platform::time_text(ms).unwrap_or_else(|| crate::platform::int_text(ms))
    }
    #[cfg(not(all(feature = "page", target_arch = "wasm32", target_os = "unknown")))]
    {
        if let Some(text) = crate::platform::time_text(ms) {
            return text;
        }
        format_rfc3339_here(ms)
    }
}

/// [`format_rfc3339`] by the engine's own calendar arithmetic.
#[cfg(not(all(feature = "page", target_arch = "wasm32", target_os = "unknown")))]
fn format_rfc3339_here(ms: i64) -> String {
    let rem = ms.rem_euclid(DAY_MS);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let mut out = format_date(ms);
    for (sep, v, width) in [('T', h, 2), (':', mi, 2), (':', s, 2), ('.', milli, 3)] {
        out.push(sep);
        pad(v, width, &mut out);
    }
    out.push('Z');
    out
}

/// Appends `v` (≥ 0) in decimal, zero-padded to `width` digits, as `{v:0width$}` does.
fn pad(v: i64, width: usize, out: &mut String) {
    let text = crate::platform::int_text(v);
    for _ in text.len()..width {
        out.push('0');
    }
    out.push_str(&text);
}

/// The UTC calendar date of Unix milliseconds as `YYYY-MM-DD`.
pub fn format_date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    let mut out = String::new();
    // `{y:04}` counts a minus sign in the width.
    if y < 0 {
        out.push('-');
    }
    pad(y.abs(), if y < 0 { 3 } else { 4 }, &mut out);
    out.push('-');
    pad(i64::from(m), 2, &mut out);
    out.push('-');
    pad(i64::from(d), 2, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2014-04-07T00:49:00Z"),
            Some(1_396_831_740_000)
        );
        assert_eq!(parse_rfc3339("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(
            parse_rfc3339("2026-11-24T10:00:00.1234Z").map(|m| m % 1000),
            Some(123)
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "2026",
            "2026-13-01",
            "2023-02-29",
            "2026-11-24T25:00:00Z",
            "2026-11-24T10:00:00",
            "2026-11-24T10:00:00+0100",
            "2026-11-24T10:00:00.Z",
            "２０２６-11-24",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trip_many() {
        for ms in (-5_000_000_000_000i64..5_000_000_000_000).step_by(123_456_789_011) {
            assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Some(ms));
        }
    }
}
