//! Encoders of scalar values, one per (Arrow type family, text format), chosen once per batch.
//!
//! Integers are written digit by digit, floats through `zmij` (shortest round-trip text: an f32 is written as the shortest text
//! that reads back as that f32, not as the f64 it widens to). Decimals are written digit-exact with their
//! scale. Instants are formatted by [`super::time`].

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type, Float16Type, Float32Type,
    Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrowPrimitiveType, BooleanArray, GenericStringArray, OffsetSizeTrait, StringViewArray,
};
use arrow_schema::{DataType, TimeUnit};
use serde_json::Value;

use super::text::{write_escaped, write_integer};
use super::time::{
    self, MAX_EVENT_TIME_SECONDS, MIN_EVENT_TIME_SECONDS, render_iso, split_seconds, write_iso,
};
use super::value::{ValueEncoder, ValueError};
use crate::schema::{DateText, TextFormat, TimeText};

/// The encoder for `array`'s values in `format`, or `None` when the array's type does not match the
/// format (the schema check prevents that; the caller reports the batch as not matching the schema).
pub(crate) fn make_scalar_encoder<'a>(
    array: &'a dyn Array,
    format: TextFormat,
) -> Option<Box<dyn ValueEncoder + 'a>> {
    if let DataType::Dictionary(..) = array.data_type() {
        return DictionaryEncoder::new(array, format).map(|e| Box::new(e) as _);
    }
    Some(match format {
        TextFormat::Integer { integral, event_time } => {
            let checks = IntegerChecks { integral, event_time };
            match array.data_type() {
                DataType::Int8 => IntegerEncoder::<Int8Type>::boxed(array, checks)?,
                DataType::Int16 => IntegerEncoder::<Int16Type>::boxed(array, checks)?,
                DataType::Int32 => IntegerEncoder::<Int32Type>::boxed(array, checks)?,
                DataType::Int64 => IntegerEncoder::<Int64Type>::boxed(array, checks)?,
                DataType::UInt8 => IntegerEncoder::<UInt8Type>::boxed(array, checks)?,
                DataType::UInt16 => IntegerEncoder::<UInt16Type>::boxed(array, checks)?,
                DataType::UInt32 => IntegerEncoder::<UInt32Type>::boxed(array, checks)?,
                DataType::UInt64 => IntegerEncoder::<UInt64Type>::boxed(array, checks)?,
                _ => return None,
            }
        }
        TextFormat::Float {
            finite_only,
            event_time,
        } => {
            let checks = FloatChecks {
                finite_only,
                event_time,
            };
            match array.data_type() {
                DataType::Float16 => {
                    let values = array.as_primitive_opt::<Float16Type>()?.values();
                    FloatEncoder::boxed(Cow::Owned(values.iter().map(|v| v.to_f32()).collect()), checks)
                }
                DataType::Float32 => FloatEncoder::boxed(
                    Cow::Borrowed(array.as_primitive_opt::<Float32Type>()?.values()),
                    checks,
                ),
                DataType::Float64 => FloatEncoder::boxed(
                    Cow::Borrowed(array.as_primitive_opt::<Float64Type>()?.values()),
                    checks,
                ),
                _ => return None,
            }
        }
        TextFormat::Decimal { integral, event_time } => match array.data_type() {
            DataType::Decimal32(_, scale) => {
                DecimalEncoder::<Decimal32Type>::boxed(array, *scale, integral, event_time)?
            }
            DataType::Decimal64(_, scale) => {
                DecimalEncoder::<Decimal64Type>::boxed(array, *scale, integral, event_time)?
            }
            DataType::Decimal128(_, scale) => {
                DecimalEncoder::<Decimal128Type>::boxed(array, *scale, integral, event_time)?
            }
            _ => return None,
        },
        TextFormat::Bool => Box::new(BoolEncoder {
            values: array.as_boolean_opt()?,
        }),
        TextFormat::Text | TextFormat::EventTimeText => {
            let event_time = format == TextFormat::EventTimeText;
            match array.data_type() {
                DataType::Utf8 => Box::new(TextEncoder {
                    values: array.as_string_opt::<i32>()?,
                    event_time,
                }),
                DataType::LargeUtf8 => Box::new(TextEncoder {
                    values: array.as_string_opt::<i64>()?,
                    event_time,
                }),
                DataType::Utf8View => Box::new(TextEncoder {
                    values: array.as_string_view_opt()?,
                    event_time,
                }),
                _ => return None,
            }
        }
        TextFormat::Timestamp { text, event_time } => {
            let DataType::Timestamp(unit, _) = array.data_type() else {
                return None;
            };
            let values: &[i64] = match unit {
                TimeUnit::Second => array.as_primitive_opt::<TimestampSecondType>()?.values(),
                TimeUnit::Millisecond => array.as_primitive_opt::<TimestampMillisecondType>()?.values(),
                TimeUnit::Microsecond => array.as_primitive_opt::<TimestampMicrosecondType>()?.values(),
                TimeUnit::Nanosecond => array.as_primitive_opt::<TimestampNanosecondType>()?.values(),
            };
            let (units_per_second, unit_digits) = match unit {
                TimeUnit::Second => (1, 0),
                TimeUnit::Millisecond => (1_000, 3),
                TimeUnit::Microsecond => (1_000_000, 6),
                TimeUnit::Nanosecond => (1_000_000_000, 9),
            };
            Box::new(TimestampEncoder {
                values,
                units_per_second,
                unit_digits,
                text,
                event_time,
            })
        }
        TextFormat::Date { text, event_time } => match array.data_type() {
            DataType::Date32 => Box::new(DateEncoder {
                days: DaySource::Days(array.as_primitive_opt::<Date32Type>()?.values()),
                text,
                event_time,
            }),
            DataType::Date64 => Box::new(DateEncoder {
                days: DaySource::Millis(array.as_primitive_opt::<Date64Type>()?.values()),
                text,
                event_time,
            }),
            _ => return None,
        },
    })
}

#[derive(Clone, Copy)]
struct IntegerChecks {
    /// Values must fit an i64 (an Integral feature).
    integral: bool,
    /// Values are epoch seconds of an event time.
    event_time: bool,
}

struct IntegerEncoder<'a, T: ArrowPrimitiveType> {
    values: &'a [T::Native],
    checks: IntegerChecks,
}

impl<'a, T> IntegerEncoder<'a, T>
where
    T: ArrowPrimitiveType,
    T::Native: itoa::Integer + Into<i128>,
{
    fn boxed(array: &'a dyn Array, checks: IntegerChecks) -> Option<Box<dyn ValueEncoder + 'a>> {
        Some(Box::new(Self {
            values: array.as_primitive_opt::<T>()?.values(),
            checks,
        }))
    }
}

impl<T> ValueEncoder for IntegerEncoder<'_, T>
where
    T: ArrowPrimitiveType,
    T::Native: itoa::Integer + Into<i128>,
{
    #[inline]
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) -> Result<usize, ValueError> {
        let wide: i128 = self.values[index].into();
        if self.checks.integral && i64::try_from(wide).is_err() {
            return Err(ValueError::IntegralOutOfRange);
        }
        if self.checks.event_time
            && !(i128::from(MIN_EVENT_TIME_SECONDS)..=i128::from(MAX_EVENT_TIME_SECONDS)).contains(&wide)
        {
            return Err(ValueError::EventTimeOutOfRange);
        }
        // Every integer type up to 64 bits has a magnitude that fits a u64.
        Ok(write_integer(out, wide < 0, wide.unsigned_abs() as u64))
    }

    fn render(&self, index: usize) -> Value {
        Value::String(itoa::Buffer::new().format(self.values[index]).to_string())
    }
}

#[derive(Clone, Copy)]
struct FloatChecks {
    /// NaN and infinities fail (Fractional); otherwise they are written as words (String).
    finite_only: bool,
    event_time: bool,
}

/// The float types written in their own shortest round-trip form (zmij: the Schubfach/yy algorithm,
/// about twice as fast as Ryū here, and already compiled in as serde_json's float formatter). Positive
/// exponents are written `1e+21`: valid for Java's `Double.parseDouble`, JSON and every float parser.
trait ShortestText: Copy + zmij::Float {
    fn to_f64(self) -> f64;

    /// Appends the shortest round-trip text of a finite value; returns its length.
    ///
    /// The text is at most 24 bytes and starts at the buffer's first byte: the whole buffer is copied at once
    /// into the output's spare room, then the output grows by the text's length. A copy of the text's own
    /// length is a call to `memmove` per value, which profiled at a tenth of the encoder's time.
    #[inline]
    fn write_finite(self, out: &mut Vec<u8>) -> usize {
        const WHOLE: usize = std::mem::size_of::<zmij::Buffer>();
        const { assert!(WHOLE == 24) };
        let mut buffer = zmij::Buffer::new();
        let text = buffer.format_finite(self);
        let (start, len) = (text.as_ptr(), text.len());
        let whole = (&raw const buffer).cast::<std::mem::MaybeUninit<u8>>();
        assert!(std::ptr::eq(start, whole.cast::<u8>()) && len <= WHOLE);
        out.reserve(WHOLE);
        // SAFETY: `whole` is the buffer's 24 bytes (copied as MaybeUninit: those past the text may be unset),
        // `out` has room for them after its length, and its first `len` bytes are the text just written.
        unsafe {
            std::ptr::copy_nonoverlapping(whole, out.spare_capacity_mut().as_mut_ptr(), WHOLE);
            out.set_len(out.len() + len);
        }
        len
    }
}

impl ShortestText for f64 {
    fn to_f64(self) -> f64 {
        self
    }
}

impl ShortestText for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

struct FloatEncoder<'a, F: ShortestText> {
    /// Float16 values are widened to f32 once per batch (every f16 is exactly an f32, whose shortest
    /// text reads back as the same f16); f32 and f64 values are borrowed.
    values: Cow<'a, [F]>,
    checks: FloatChecks,
}

impl<'a, F: ShortestText> FloatEncoder<'a, F> {
    fn boxed(values: Cow<'a, [F]>, checks: FloatChecks) -> Box<dyn ValueEncoder + 'a> {
        Box::new(Self { values, checks })
    }
}

/// Java's and Spark's words for the values JSON numbers lack, for String features.
fn non_finite_word(value: f64) -> &'static str {
    if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

impl<F: ShortestText> ValueEncoder for FloatEncoder<'_, F> {
    #[inline]
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) -> Result<usize, ValueError> {
        let value = self.values[index];
        let wide = value.to_f64();
        if !wide.is_finite() {
            if self.checks.finite_only {
                return Err(ValueError::NonFinite);
            }
            let word = non_finite_word(wide);
            out.extend_from_slice(word.as_bytes());
            return Ok(word.len());
        }
        if self.checks.event_time
            && !(MIN_EVENT_TIME_SECONDS as f64..(MAX_EVENT_TIME_SECONDS + 1) as f64).contains(&wide)
        {
            return Err(ValueError::EventTimeOutOfRange);
        }
        Ok(value.write_finite(out))
    }

    fn render(&self, index: usize) -> Value {
        let value = self.values[index];
        if value.to_f64().is_finite() {
            let mut text = Vec::new();
            value.write_finite(&mut text);
            Value::String(String::from_utf8_lossy(&text).into_owned())
        } else {
            Value::String(non_finite_word(value.to_f64()).to_string())
        }
    }
}

struct DecimalEncoder<'a, T: ArrowPrimitiveType> {
    values: &'a [T::Native],
    scale: i8,
    /// Whole values in the i64 range only, written without a fraction (Integral).
    integral: bool,
    event_time: bool,
}

impl<'a, T> DecimalEncoder<'a, T>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i128>,
{
    fn boxed(
        array: &'a dyn Array,
        scale: i8,
        integral: bool,
        event_time: bool,
    ) -> Option<Box<dyn ValueEncoder + 'a>> {
        Some(Box::new(Self {
            values: array.as_primitive_opt::<T>()?.values(),
            scale,
            integral,
            event_time,
        }))
    }
}

impl<T> ValueEncoder for DecimalEncoder<'_, T>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i128>,
{
    #[inline]
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) -> Result<usize, ValueError> {
        let unscaled: i128 = self.values[index].into();
        if self.integral {
            let whole = whole_decimal(unscaled, self.scale)?;
            return Ok(write_integer(out, whole < 0, whole.unsigned_abs()));
        }
        if self.event_time && !decimal_within_event_time(unscaled, self.scale) {
            return Err(ValueError::EventTimeOutOfRange);
        }
        Ok(write_decimal(out, unscaled, self.scale))
    }

    fn render(&self, index: usize) -> Value {
        let mut out = Vec::new();
        write_decimal(&mut out, self.values[index].into(), self.scale);
        Value::String(String::from_utf8_lossy(&out).into_owned())
    }
}

/// The value of `unscaled` × 10^-`scale` as an i64, if it is whole and fits.
fn whole_decimal(unscaled: i128, scale: i8) -> Result<i64, ValueError> {
    let whole = if scale >= 0 {
        match 10i128.checked_pow(u32::from(scale.unsigned_abs())) {
            Some(divisor) => {
                if unscaled % divisor != 0 {
                    return Err(ValueError::IntegralNotWhole);
                }
                unscaled / divisor
            }
            // 10^scale beyond i128: only zero is whole.
            None if unscaled == 0 => 0,
            None => return Err(ValueError::IntegralNotWhole),
        }
    } else {
        10i128
            .checked_pow(u32::from(scale.unsigned_abs()))
            .and_then(|factor| unscaled.checked_mul(factor))
            .ok_or(ValueError::IntegralOutOfRange)?
    };
    i64::try_from(whole).map_err(|_| ValueError::IntegralOutOfRange)
}

/// Whether `unscaled` × 10^-`scale` seconds lies within the service's event time range.
fn decimal_within_event_time(unscaled: i128, scale: i8) -> bool {
    let factor = 10i128.checked_pow(u32::from(scale.unsigned_abs()));
    let (low, high_exclusive) = (
        i128::from(MIN_EVENT_TIME_SECONDS),
        i128::from(MAX_EVENT_TIME_SECONDS) + 1,
    );
    if scale >= 0 {
        // A bound that overflows when scaled lies beyond every representable value.
        let above_low = factor
            .and_then(|f| low.checked_mul(f))
            .is_none_or(|l| unscaled >= l);
        let below_high = factor
            .and_then(|f| high_exclusive.checked_mul(f))
            .is_none_or(|h| unscaled < h);
        above_low && below_high
    } else {
        match factor.and_then(|f| unscaled.checked_mul(f)) {
            Some(value) => value >= low && value < high_exclusive,
            None => false,
        }
    }
}

/// Appends the exact decimal text of `unscaled` × 10^-`scale` (`12.30`, `-0.05`, `1200` for a negative
/// scale) and returns its length.
fn write_decimal(out: &mut Vec<u8>, unscaled: i128, scale: i8) -> usize {
    let start = out.len();
    if unscaled < 0 {
        out.push(b'-');
    }
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(unscaled.unsigned_abs()).as_bytes();
    if scale <= 0 {
        out.extend_from_slice(digits);
        if unscaled != 0 {
            out.extend(std::iter::repeat_n(b'0', usize::from(scale.unsigned_abs())));
        }
    } else {
        let scale = usize::from(scale.unsigned_abs());
        if digits.len() > scale {
            let (whole, fraction) = digits.split_at(digits.len() - scale);
            out.extend_from_slice(whole);
            out.push(b'.');
            out.extend_from_slice(fraction);
        } else {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', scale - digits.len()));
            out.extend_from_slice(digits);
        }
    }
    out.len() - start
}

struct BoolEncoder<'a> {
    values: &'a BooleanArray,
}

impl ValueEncoder for BoolEncoder<'_> {
    #[inline]
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) -> Result<usize, ValueError> {
        let text: &[u8] = if self.values.value(index) {
            b"true"
        } else {
            b"false"
        };
        out.extend_from_slice(text);
        Ok(text.len())
    }

    fn render(&self, index: usize) -> Value {
        Value::String(self.values.value(index).to_string())
    }
}

/// The string array types, read the same way.
trait StrAt {
    fn str_at(&self, index: usize) -> &str;
}

impl<O: OffsetSizeTrait> StrAt for GenericStringArray<O> {
    #[inline]
    fn str_at(&self, index: usize) -> &str {
        self.value(index)
    }
}

impl StrAt for StringViewArray {
    #[inline]
    fn str_at(&self, index: usize) -> &str {
        self.value(index)
    }
}

struct TextEncoder<'a, A: StrAt> {
    values: &'a A,
    /// The text must be in one of the service's event time formats.
    event_time: bool,
}

impl<A: StrAt> ValueEncoder for TextEncoder<'_, A> {
    #[inline]
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) -> Result<usize, ValueError> {
        let text = self.values.str_at(index);
        if self.event_time && !time::is_event_time_text(text) {
            return Err(ValueError::EventTimeFormat);
        }
        write_escaped(out, text);
        Ok(text.len())
    }

    fn render(&self, index: usize) -> Value {
        Value::String(self.values.str_at(index).to_string())
    }
}

struct TimestampEncoder<'a> {
    values: &'a [i64],
    units_per_second: i64,
    /// Fraction digits of the unit: 0, 3, 6 or 9.
    unit_digits: u32,
    text: TimeText,
    event_time: bool,
}

impl TimestampEncoder<'_> {
    fn out_of_range(&self) -> ValueError {
        if self.event_time {
            ValueError::EventTimeOutOfRange
        } else {
            ValueError::TimestampOutOfRange
        }
    }
}

/// Scales a fraction of 10^`from` to 10^`to` digits, truncating.
#[inline]
fn rescale_fraction(fraction: i64, from: u32, to: u32) -> i64 {
    if from >= to {
        fraction / 10i64.pow(from - to)
    } else {
        fraction * 10i64.pow(to - from)
    }
}

impl ValueEncoder for TimestampEncoder<'_> {
    #[inline]
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) -> Result<usize, ValueError> {
        let value = self.values[index];
        let (seconds, fraction) = split_seconds(value, self.units_per_second);
        match self.text {
            TimeText::IsoMillis | TimeText::IsoUnit => {
                let digits = if self.text == TimeText::IsoMillis {
                    3
                } else {
                    self.unit_digits.max(3)
                };
                let start = out.len();
                if !write_iso(
                    out,
                    seconds,
                    rescale_fraction(fraction, self.unit_digits, digits),
                    digits,
                ) {
                    return Err(self.out_of_range());
                }
                Ok(out.len() - start)
            }
            TimeText::EpochSeconds => {
                if !(MIN_EVENT_TIME_SECONDS..=MAX_EVENT_TIME_SECONDS).contains(&seconds) {
                    return Err(self.out_of_range());
                }
                Ok(time::write_epoch_seconds(out, value, self.units_per_second))
            }
        }
    }

    fn render(&self, index: usize) -> Value {
        let value = self.values[index];
        let (seconds, fraction) = split_seconds(value, self.units_per_second);
        Value::String(match self.text {
            TimeText::EpochSeconds => {
                let mut out = Vec::new();
                time::write_epoch_seconds(&mut out, value, self.units_per_second);
                String::from_utf8_lossy(&out).into_owned()
            }
            TimeText::IsoMillis | TimeText::IsoUnit => render_iso(seconds, fraction, self.unit_digits),
        })
    }
}

enum DaySource<'a> {
    /// Date32: days since the epoch.
    Days(&'a [i32]),
    /// Date64: milliseconds since the epoch (a time of day, if any, is dropped).
    Millis(&'a [i64]),
}

impl DaySource<'_> {
    #[inline]
    fn day(&self, index: usize) -> i64 {
        match self {
            DaySource::Days(days) => i64::from(days[index]),
            DaySource::Millis(millis) => millis[index].div_euclid(86_400_000),
        }
    }
}

struct DateEncoder<'a> {
    days: DaySource<'a>,
    text: DateText,
    event_time: bool,
}

impl ValueEncoder for DateEncoder<'_> {
    #[inline]
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) -> Result<usize, ValueError> {
        let seconds = self.days.day(index) * 86_400;
        if !(MIN_EVENT_TIME_SECONDS..=MAX_EVENT_TIME_SECONDS).contains(&seconds) {
            return Err(if self.event_time {
                ValueError::EventTimeOutOfRange
            } else {
                ValueError::TimestampOutOfRange
            });
        }
        let start = out.len();
        match self.text {
            DateText::Day => {
                write_iso(out, seconds, 0, 0);
                // Keep `yyyy-MM-dd` of `yyyy-MM-ddTHH:mm:ssZ`.
                out.truncate(start + 10);
            }
            DateText::Midnight => {
                write_iso(out, seconds, 0, 3);
            }
            DateText::EpochSeconds => {
                write_integer(out, seconds < 0, seconds.unsigned_abs());
            }
        }
        Ok(out.len() - start)
    }

    fn render(&self, index: usize) -> Value {
        let seconds = self.days.day(index).saturating_mul(86_400);
        Value::String(match self.text {
            DateText::EpochSeconds => seconds.to_string(),
            DateText::Day => {
                let text = render_iso(seconds, 0, 0);
                text.split('T').next().unwrap_or_default().to_string()
            }
            DateText::Midnight => render_iso(seconds, 0, 3),
        })
    }
}

/// A dictionary-encoded column: the value encoder runs on the dictionary, looked up by key.
struct DictionaryEncoder<'a> {
    keys: Vec<usize>,
    values: Box<dyn ValueEncoder + 'a>,
}

impl<'a> DictionaryEncoder<'a> {
    fn new(array: &'a dyn Array, format: TextFormat) -> Option<Self> {
        let dictionary = array.as_any_dictionary_opt()?;
        let values = dictionary.values();
        // Keys of null rows may point anywhere; `normalized_keys` clamps them (and needs a non-empty
        // dictionary: an empty one can only have null rows).
        let keys = if values.is_empty() {
            vec![0; array.len()]
        } else {
            dictionary.normalized_keys()
        };
        Some(Self {
            keys,
            values: make_scalar_encoder(values.as_ref(), format)?,
        })
    }
}

impl ValueEncoder for DictionaryEncoder<'_> {
    #[inline]
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) -> Result<usize, ValueError> {
        self.values.encode(self.keys[index], out)
    }

    fn render(&self, index: usize) -> Value {
        self.values.render(self.keys[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appended after what the output holds, exactly zmij's text, which parses back to the same value.
    fn check_shortest<F: ShortestText + std::str::FromStr + PartialEq + std::fmt::Debug>(value: F) {
        let mut out = b"[x,".to_vec();
        let len = value.write_finite(&mut out);
        let expected = zmij::Buffer::new().format_finite(value).to_owned();
        assert_eq!(&out[3..], expected.as_bytes());
        assert_eq!(len, expected.len());
        assert_eq!(expected.parse::<F>().ok(), Some(value));
    }

    #[test]
    fn writes_floats_as_their_shortest_text_after_what_the_output_holds() {
        let mut rng = fastrand::Rng::with_seed(7);
        let edges = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            1e21,
            1e-7,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -2.2250738585072014e-308,
        ];
        for value in edges
            .into_iter()
            .chain((0..20_000).map(|_| f64::from_bits(rng.u64(..))))
        {
            if value.is_finite() {
                check_shortest(value);
            }
        }
        for value in (0..20_000)
            .map(|_| f32::from_bits(rng.u32(..)))
            .chain([f32::MAX, -f32::MIN_POSITIVE])
        {
            if value.is_finite() {
                check_shortest(value);
            }
        }
    }

    fn decimal(unscaled: i128, scale: i8) -> String {
        let mut out = Vec::new();
        let len = write_decimal(&mut out, unscaled, scale);
        assert_eq!(len, out.len());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_decimals_digit_exact() {
        assert_eq!(decimal(0, 0), "0");
        assert_eq!(decimal(0, 2), "0.00");
        assert_eq!(decimal(1230, 2), "12.30");
        assert_eq!(decimal(-5, 2), "-0.05");
        assert_eq!(decimal(-5, 0), "-5");
        assert_eq!(decimal(12, -2), "1200");
        assert_eq!(decimal(0, -2), "0");
        assert_eq!(decimal(i128::MAX, 38), "1.70141183460469231731687303715884105727");
        assert_eq!(decimal(i128::MIN, 0), "-170141183460469231731687303715884105728");
    }

    #[test]
    fn takes_only_whole_decimals_in_the_i64_range_as_integral() {
        assert_eq!(whole_decimal(1200, 2), Ok(12));
        assert_eq!(whole_decimal(-1200, 2), Ok(-12));
        assert_eq!(whole_decimal(1201, 2), Err(ValueError::IntegralNotWhole));
        assert_eq!(whole_decimal(12, -2), Ok(1200));
        assert_eq!(whole_decimal(i128::from(i64::MAX), 0), Ok(i64::MAX));
        assert_eq!(whole_decimal(i128::from(i64::MIN), 0), Ok(i64::MIN));
        assert_eq!(
            whole_decimal(i128::from(i64::MAX) + 1, 0),
            Err(ValueError::IntegralOutOfRange)
        );
        assert_eq!(whole_decimal(i128::from(i64::MAX) * 100, 2), Ok(i64::MAX));
        assert_eq!(whole_decimal(i128::MAX, -1), Err(ValueError::IntegralOutOfRange));
        assert_eq!(whole_decimal(0, 38), Ok(0));
    }

    #[test]
    fn bounds_decimal_event_times_exactly() {
        let max = i128::from(MAX_EVENT_TIME_SECONDS);
        let min = i128::from(MIN_EVENT_TIME_SECONDS);
        assert!(decimal_within_event_time(max * 1000 + 999, 3));
        assert!(!decimal_within_event_time((max + 1) * 1000, 3));
        assert!(decimal_within_event_time(min * 1000, 3));
        assert!(!decimal_within_event_time(min * 1000 - 1, 3));
        assert!(decimal_within_event_time(17, -8));
        assert!(!decimal_within_event_time(i128::MAX, -8));
        assert!(decimal_within_event_time(i128::MAX, 38));
    }
}
