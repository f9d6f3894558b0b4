//! Timestamps for logs and audit records: RFC 3339 in UTC, so every line carries date and zone
//! without a time-zone database (the executables are static and read no zoneinfo). And the
//! duration syntax every setting shares (`250ms`, `5s`, `2m`, `1h`, `7d`), read and shown.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer};

/// `2026-11-23T19:10:41.123Z` for the given instant.
pub fn rfc3339(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Now, as `rfc3339`.
pub fn now() -> String {
    rfc3339(SystemTime::now())
}

/// `2026-11-23`: the UTC date of an instant, as reports group by day.
pub fn date(at: SystemTime) -> String {
    rfc3339(at)[..10].to_owned()
}

/// A UTC calendar time to an instant; `None` for a date or time that does not exist.
pub fn from_civil(
    (year, month, day): (i64, u32, u32),
    (hour, minute, second): (u32, u32, u32),
    micros: u32,
) -> Option<SystemTime> {
    let month_days = [
        31,
        28 + u32::from(is_leap(year)),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let last_day = month_days.get(month.checked_sub(1)? as usize)?;
    let valid = (1..=*last_day).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
        && micros < 1_000_000;
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    let secs = days * 86_400 + u64::from(hour * 3600 + minute * 60 + second);
    valid.then(|| UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros.into()))
}

/// The UTC calendar time of an instant: ((year, month, day), (hour, minute, second), micros).
pub fn to_civil(at: SystemTime) -> ((i64, u32, u32), (u32, u32, u32), u32) {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let rem = (secs % 86_400) as u32;
    (
        civil_from_days((secs / 86_400) as i64),
        (rem / 3600, rem % 3600 / 60, rem % 60),
        since.subsec_micros(),
    )
}

/// Parses `2026-11-23T19:10:41.123Z`, `2026-11-23 19:10:41` (UTC) or either with a `+02:00`
/// offset: what run records and database rows hold.
pub fn parse(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let separators = text.get(4..5) == Some("-")
        && text.get(7..8) == Some("-")
        && matches!(text.get(10..11), Some("T" | " "))
        && text.get(13..14) == Some(":")
        && text.get(16..17) == Some(":");
    if !separators {
        return None;
    }
    let date = (i64::from(number(0..4)?), number(5..7)?, number(8..10)?);
    let time = (number(11..13)?, number(14..16)?, number(17..19)?);
    let mut rest = &text[19..];
    let mut micros = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let kept = &fraction[..digits.min(6)];
        micros = kept.parse::<u32>().ok()? * 10u32.pow(6 - kept.len() as u32);
        rest = &fraction[digits..];
    }
    let at = from_civil(date, time, micros)?;
    let offset = match rest {
        "" | "Z" | "z" => return Some(at),
        _ => rest,
    };
    let sign = match offset.get(..1)? {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let (hours, minutes) = offset[1..].split_once(':')?;
    let (hours, minutes): (u64, u64) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours >= 24 || minutes >= 60 || offset.len() != 6 {
        return None;
    }
    let shift = Duration::from_secs(hours * 3600 + minutes * 60);
    // Local time ahead of UTC: the instant is earlier than the wall clock reading.
    if sign > 0 {
        at.checked_sub(shift)
    } else {
        at.checked_add(shift)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// A proleptic Gregorian date to days since 1970-01-01 (the inverse of `civil_from_days`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let shifted_month = i64::from((month + 9) % 12);
    let doy = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Deserializes `250ms`, `5s`, `2m`, `1h` or `7d`.
pub fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

/// Parses `<digits><unit>` with unit `ms`, `s`, `m`, `h` or `d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration like 250ms, 5s, 2m, 1h or 7d");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    n.checked_mul(millis)
        .map(Duration::from_millis)
        .ok_or_else(bad)
}

/// `4m02s`, `2.5s` or `250ms`: short, for log lines.
pub fn show(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_460_441_123);
        assert_eq!(rfc3339(t), "2026-11-23T19:00:41.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn parses_what_it_writes_and_what_databases_hold() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_460_441_123);
        assert_eq!(parse(&rfc3339(t)), Some(t));
        assert_eq!(parse("2026-11-23 19:00:41.123"), Some(t));
        assert_eq!(parse("2026-11-23T21:00:41.123+02:00"), Some(t));
        assert_eq!(parse("2026-11-23T18:30:41.123-00:30"), Some(t));
        assert_eq!(date(t), "2026-11-23");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(parse("2000-02-29 00:00:00"), Some(leap));
        assert_eq!(to_civil(t), ((2026, 11, 23), (19, 0, 41), 123_000));
        for bad in [
            "",
            "2026-11-23",
            "2026-02-30 00:00:00",
            "2025-02-29 00:00:00",
            "2026-11-23 24:00:00",
            "2026-11-23T19:00:41.Z",
            "2026-11-23T19:00:41+2",
            "2026-11-23T19:00:41 junk",
            "2026-1a-23 19:00:41",
            "2026-13-01 00:00:00",
            "2026-00-01 00:00:00",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        for days in [-800_000, -1, 0, 1, 10_957, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn durations_parse_down_to_milliseconds() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        for bad in ["", "5", "s", "5 s", "1.5s", "-1s", "5y"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shows_durations_briefly() {
        assert_eq!(show(Duration::from_millis(250)), "250ms");
        assert_eq!(show(Duration::from_millis(2_500)), "2.5s");
        assert_eq!(show(Duration::from_secs(242)), "4m02s");
    }
}
