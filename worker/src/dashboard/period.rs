//! The shop's calendar: its time zone ([`Zone`]), the period a page shows ([`Period`]) and its
//! days, weeks (Monday first) or months ([`Grain`]) as ranges of UTC time, which the store turns
//! into ranges of quarter-hour rollup slots. Pure; the IANA database is bundled (jiff), so the
//! same code runs on workerd and in native tests.

use jiff::civil::{Date, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::{Span, Timestamp};

/// A shop time zone: `UTC`, a fixed offset `±HH:MM`, or an IANA name.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: TimeZone,
    name: String,
}

impl Zone {
    /// The zone called `name` (a shop's `time_zone` setting), or why it is not one.
    pub fn new(name: &str) -> Result<Zone, String> {
        let b = name.as_bytes();
        let tz = if name == "UTC" {
            TimeZone::UTC
        } else if b.len() == 6 && matches!(b[0], b'+' | b'-') && b[3] == b':' {
            let num = |s: &str| s.parse::<i32>().ok();
            let (Some(h), Some(m)) = (num(&name[1..3]), num(&name[4..6])) else {
                return Err(format!("`{name}` is not an offset such as +05:30"));
            };
            let sign = if b[0] == b'-' { -1 } else { 1 };
            let offset = Offset::from_seconds(sign * (h * 3600 + m * 60))
                .map_err(|e| format!("`{name}`: {e}"))?;
            TimeZone::fixed(offset)
        } else {
            TimeZone::get(name).map_err(|_| format!("`{name}` is not a known time zone"))?
        };
        Ok(Zone {
            tz,
            name: name.to_string(),
        })
    }

    /// The zone of a shop setting, UTC when the setting is not a known zone (stated on the page).
    pub fn or_utc(name: &str) -> Zone {
        Zone::new(name).unwrap_or_else(|_| Zone {
            tz: TimeZone::UTC,
            name: "UTC".into(),
        })
    }

    /// The zone's name as the shop set it.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn at(&self, ms: i64) -> jiff::ZonedDateTime {
        Timestamp::from_millisecond(ms)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned_datetime(self.tz.clone())
    }

    /// The local date at `ms`.
    pub fn date_of(&self, ms: i64) -> Date {
        self.at(ms).date()
    }

    /// The local hour (0–23) at `ms`.
    pub fn hour_of(&self, ms: i64) -> i8 {
        self.at(ms).hour()
    }

    /// The UTC offset at `ms`, as `UTC+05:30`.
    pub fn offset_label(&self, ms: i64) -> String {
        let s = self.at(ms).offset().seconds();
        if s == 0 {
            return "UTC".into();
        }
        let (sign, s) = if s < 0 { ('-', -s) } else { ('+', s) };
        format!("UTC{sign}{:02}:{:02}", s / 3600, s / 60 % 60)
    }

    /// The first instant of local day `d`, Unix ms (after a gap when midnight is skipped).
    pub fn start_of(&self, d: Date) -> i64 {
        d.to_zoned_datetime(self.tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(0)
    }

    /// The zone's UTC offsets over `[start_ms, end_ms)` as `(from_ms, until_ms, offset_ms)`,
    /// oldest first and covering all time: the offset at the start, then one entry per
    /// transition (summer time) before the end.
    pub fn offsets(&self, start_ms: i64, end_ms: i64) -> Vec<(i64, i64, i64)> {
        const FAR: i64 = i64::MAX / 4;
        let offset_ms = |ms: i64| i64::from(self.at(ms).offset().seconds()) * 1000;
        let mut out = vec![(-FAR, FAR, offset_ms(start_ms))];
        let from = Timestamp::from_millisecond(start_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        for t in self.tz.following(from).take(400) {
            let at = t.timestamp().as_millisecond();
            if at >= end_ms {
                break;
            }
            if let Some(last) = out.last_mut() {
                last.1 = at;
            }
            out.push((at, FAR, i64::from(t.offset().seconds()) * 1000));
        }
        out
    }

    /// The local months from the one holding `start_ms` to the one holding `end_ms`, oldest
    /// first, as `(start_ms, end_ms, year * 12 + month - 1)` (at most 1,200: a century).
    pub fn months(&self, start_ms: i64, end_ms: i64) -> Vec<(i64, i64, i64)> {
        let mut out = Vec::new();
        let mut d = self.date_of(start_ms).first_of_month();
        let last = self.date_of(end_ms.max(start_ms));
        while d <= last && out.len() < 1200 {
            let next = add_days(d.last_of_month(), 1);
            let index = i64::from(d.year()) * 12 + i64::from(d.month()) - 1;
            out.push((self.start_of(d), self.start_of(next), index));
            d = next;
        }
        out
    }

    /// What every chart says about time: `Times in Asia/Kolkata (UTC+05:30)`.
    pub fn statement(&self, now_ms: i64) -> String {
        let offset = self.offset_label(now_ms);
        if offset == self.name {
            format!("Times in {offset}")
        } else {
            format!("Times in {} ({offset})", self.name)
        }
    }
}

/// The step of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// Local days.
    Day,
    /// Weeks from Monday.
    Week,
    /// Calendar months.
    Month,
}

impl Grain {
    /// From a query value (`day`, `week`, `month`; anything else is a day).
    pub fn parse(s: &str) -> Grain {
        match s {
            "week" => Grain::Week,
            "month" => Grain::Month,
            _ => Grain::Day,
        }
    }

    /// Its query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
        }
    }
}

/// One step of a trend: its label and its UTC range `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// `2026-11-24` (a day, or the first day of a week within the period), `2026-11` (a month).
    pub label: String,
    /// Start, Unix ms.
    pub start_ms: i64,
    /// End (exclusive), Unix ms.
    pub end_ms: i64,
}

/// A run of whole local days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first day.
    pub from: Date,
    /// The last day.
    pub to: Date,
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(Span::new().days(n)).unwrap_or(d)
}

/// The longest period a page accepts, in days.
pub const MAX_DAYS: i64 = 3 * 366;

impl Period {
    /// The `days` days ending today (in `zone` at `now_ms`).
    pub fn last_days(zone: &Zone, now_ms: i64, days: i64) -> Period {
        let to = zone.date_of(now_ms);
        Period {
            from: add_days(to, 1 - days.max(1)),
            to,
        }
    }

    /// The period of the query values `from` and `to` (`YYYY-MM-DD`), the last 30 days when both
    /// are absent, or why they are not a period.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        zone: &Zone,
        now_ms: i64,
    ) -> Result<Period, String> {
        let date = |s: &str| -> Result<Date, String> {
            s.trim()
                .parse::<Date>()
                .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
        };
        let default = Period::last_days(zone, now_ms, 30);
        let from_v = from.filter(|s| !s.trim().is_empty());
        let to_v = to.filter(|s| !s.trim().is_empty());
        let p = match (from_v, to_v) {
            (None, None) => return Ok(default),
            (Some(f), None) => Period {
                from: date(f)?,
                to: default.to,
            },
            (None, Some(t)) => {
                let to = date(t)?;
                Period {
                    from: add_days(to, -29),
                    to,
                }
            }
            (Some(f), Some(t)) => Period {
                from: date(f)?,
                to: date(t)?,
            },
        };
        if p.from > p.to {
            return Err(format!(
                "the period starts ({}) after it ends ({})",
                p.from, p.to
            ));
        }
        if p.days() > MAX_DAYS {
            return Err(format!("a period is at most {MAX_DAYS} days"));
        }
        Ok(p)
    }

    /// Its length in days.
    pub fn days(&self) -> i64 {
        let mut n = 1;
        let mut d = self.from;
        while d < self.to && n <= MAX_DAYS + 1 {
            d = add_days(d, 1);
            n += 1;
        }
        n
    }

    /// The period of the same length just before.
    pub fn previous(&self) -> Period {
        let n = self.days();
        Period {
            from: add_days(self.from, -n),
            to: add_days(self.from, -1),
        }
    }

    /// Its UTC range `[start, end)` in `zone`, Unix ms.
    pub fn range(&self, zone: &Zone) -> (i64, i64) {
        (
            zone.start_of(self.from),
            zone.start_of(add_days(self.to, 1)),
        )
    }

    /// Its days, weeks or months in `zone`, oldest first; the first and last week or month are
    /// cut at the period's ends, so the buckets add up to the period.
    pub fn buckets(&self, zone: &Zone, grain: Grain) -> Vec<Bucket> {
        let mut out = Vec::new();
        let mut d = self.from;
        while d <= self.to && out.len() as i64 <= MAX_DAYS {
            let next = match grain {
                Grain::Day => add_days(d, 1),
                Grain::Week => {
                    let back = i64::from(d.weekday().to_monday_zero_offset());
                    add_days(d, 7 - back)
                }
                Grain::Month => add_days(d.last_of_month(), 1),
            };
            let end = next.min(add_days(self.to, 1));
            let label = match grain {
                Grain::Month => format!("{:04}-{:02}", d.year(), d.month()),
                _ => d.to_string(),
            };
            out.push(Bucket {
                label,
                start_ms: zone.start_of(d),
                end_ms: zone.start_of(end),
            });
            d = end;
        }
        out
    }
}

/// The weekday names, Monday first (explore's weekday dimension).
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Monday = 0 … Sunday = 6.
pub fn weekday_index(w: Weekday) -> usize {
    w.to_monday_zero_offset() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-24T00:00:00Z
    const DAY0: i64 = 1_795_478_400_000;
    const H: i64 = 3_600_000;

    #[test]
    fn zones_and_their_days() {
        let ist = Zone::new("Asia/Kolkata").unwrap_or_else(|e| panic!("{e}"));
        let fixed = Zone::new("+05:30").unwrap_or_else(|e| panic!("{e}"));
        let ny = Zone::new("America/New_York").unwrap_or_else(|e| panic!("{e}"));
        for z in [&ist, &fixed] {
            // 23:30 local on the 24th is 18:00 UTC; 00:15 local on the 25th is 18:45 UTC.
            assert_eq!(z.date_of(DAY0 + 18 * H - 1).to_string(), "2026-11-24");
            assert_eq!(
                z.date_of(DAY0 + 18 * H + 30 * 60_000).to_string(),
                "2026-11-25"
            );
            let d = "2026-11-25"
                .parse::<Date>()
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(z.start_of(d), DAY0 + 18 * H + 30 * 60_000);
            assert_eq!(z.offset_label(DAY0), "UTC+05:30");
        }
        assert_eq!(ist.statement(DAY0), "Times in Asia/Kolkata (UTC+05:30)");
        assert_eq!(ny.offset_label(DAY0), "UTC-05:00");
        // Summer time: 2026-07-01 is UTC-04:00 in New York.
        assert_eq!(ny.offset_label(1_782_864_000_000), "UTC-04:00");
        // New York leaves summer time on 2026-11-01 at 06:00 UTC.
        let o = ny.offsets(1_782_864_000_000, DAY0);
        assert_eq!(o.len(), 2);
        assert_eq!((o[0].1, o[0].2), (1_793_512_800_000, -4 * H));
        assert_eq!((o[1].0, o[1].2), (1_793_512_800_000, -5 * H));
        assert_eq!(
            ist.offsets(0, DAY0),
            [(-(i64::MAX / 4), i64::MAX / 4, 5 * H + 30 * 60_000)]
        );
        // Nepal is +05:45: its midnight is a quarter-hour slot boundary too.
        let npt = Zone::new("Asia/Kathmandu").unwrap_or_else(|e| panic!("{e}"));
        let d = "2026-11-25"
            .parse::<Date>()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(npt.start_of(d), DAY0 + 18 * H + 15 * 60_000);
        assert_eq!(npt.start_of(d) % 900_000, 0);
        // Months in New York around the end of summer time, and across a new year in India.
        let m = ny.months(1_793_512_800_000 - 40 * 24 * H, 1_793_512_800_000 + 3 * H);
        assert_eq!(m.len(), 3, "September, October, November");
        assert_eq!(m[1].0, 1_790_827_200_000, "2026-10-01 00:00 at UTC-04:00");
        assert_eq!(m[1].1, m[2].0);
        assert_eq!(m[2].1, 1_796_101_200_000, "2026-12-01 00:00 at UTC-05:00");
        assert_eq!((m[1].2, m[2].2), (2026 * 12 + 9, 2026 * 12 + 10));
        let m = ist.months(DAY0 + 40 * 24 * H, DAY0 + 40 * 24 * H);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].2, 2027 * 12, "2027-01-03 is in January 2027");
        assert!(Zone::new("Mars/Olympus").is_err());
        assert!(Zone::new("+5:30").is_err());
        assert_eq!(Zone::or_utc("Nowhere/Land").name(), "UTC");
    }

    #[test]
    fn periods_weeks_and_months() {
        let utc = Zone::or_utc("UTC");
        let p = Period::parse(Some("2026-10-30"), Some("2026-11-10"), &utc, DAY0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.days(), 12);
        let prev = p.previous();
        assert_eq!(
            (prev.from.to_string(), prev.to.to_string()),
            ("2026-10-18".into(), "2026-10-29".into())
        );
        let days = p.buckets(&utc, Grain::Day);
        assert_eq!(days.len(), 12);
        // 2026-10-30 is a Friday: the first week is cut at the period's start.
        let weeks: Vec<String> = p
            .buckets(&utc, Grain::Week)
            .into_iter()
            .map(|b| b.label)
            .collect();
        assert_eq!(weeks, ["2026-10-30", "2026-11-02", "2026-11-09"]);
        let months = p.buckets(&utc, Grain::Month);
        assert_eq!(months.len(), 2);
        assert_eq!(months[0].end_ms, months[1].start_ms);
        assert_eq!((months[0].start_ms, months[1].end_ms), p.range(&utc));
        assert_eq!(
            Period::parse(None, None, &utc, DAY0).map(|p| p.days()),
            Ok(30)
        );
        assert!(Period::parse(Some("2026-11-10"), Some("2026-11-01"), &utc, DAY0).is_err());
        assert!(Period::parse(Some("yesterday"), None, &utc, DAY0)
            .is_err_and(|e| e.contains("not a date")));
        assert!(Period::parse(Some("2000-01-01"), Some("2026-01-01"), &utc, DAY0).is_err());
        // A DST day in New York is 25 hours long (2026-11-01).
        let ny = Zone::new("America/New_York").unwrap_or_else(|e| panic!("{e}"));
        let d = Period::parse(Some("2026-11-01"), Some("2026-11-01"), &ny, DAY0)
            .unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = d.range(&ny);
        assert_eq!(b - a, 25 * H);
    }
}
