//! The contract of a column's encoder: write one value's text into the request buffer, or say which rule
//! the value breaks.

/// Encodes the values of one Arrow array. Built once per batch, after one downcast; the row loop then
/// calls [`ValueEncoder::encode`] for each non-null value.
pub(crate) trait ValueEncoder {
    /// Appends the value at `index` as the content of a JSON string (no quotes) — or, for a collection,
    /// the quoted, comma-separated elements — and returns the size of the value's text as the service
    /// counts it: UTF-8 bytes before JSON escaping. On `Err` the caller discards what was written.
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) -> Result<usize, ValueError>;

    /// The value as text, without the service's checks (NaN, out-of-range instants and integers are
    /// shown as they are): a JSON string, or an array of strings and nulls. Rare path: failed rows only.
    fn render(&self, index: usize) -> serde_json::Value;
}

/// Why a value cannot be written. Small (`u32` payloads, so a `Result<usize, ValueError>` comes back in
/// registers) and `Copy`, so the hot path never allocates; the message is built from it on the failure
/// path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueError {
    /// NaN or an infinity for a Fractional feature.
    NonFinite,
    /// An integer (UInt64, or a decimal) outside the 64-bit signed range of Integral features.
    IntegralOutOfRange,
    /// A decimal with a non-zero fraction for an Integral feature.
    IntegralNotWhole,
    /// Event time text not in one of the service's formats.
    EventTimeFormat,
    /// An event time outside years 0000..=9999.
    EventTimeOutOfRange,
    /// A timestamp or date outside years 0000..=9999 (four-digit years).
    TimestampOutOfRange,
    /// A null element in a collection (the service rejects them).
    NullElement { element: u32 },
    /// A vector with another number of elements than its dimension.
    VectorDimension { expected: u32, actual: u32 },
    /// One element of a collection larger than the per-value limit.
    ElementTooLarge { element: u32, size: u32 },
}
