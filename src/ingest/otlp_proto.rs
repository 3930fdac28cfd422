//! OTLP protobuf (`application/x-protobuf`) requests turned into the exact
//! [`serde_json::Value`] their OTLP/JSON encoding would be.
//!
//! Why: Sightline maps OTLP from JSON ([`super::otlp`], [`super::otlp_traces`]). Rather than
//! keep a second mapping for protobuf that could drift from the first, a protobuf body is
//! decoded into the OTLP/JSON shape and then takes the one JSON path. The JSON encoding rules
//! (<https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding>) are applied here:
//! lowerCamelCase field names, trace and span ids as lowercase hex, other bytes as base64,
//! 64-bit integers as decimal strings, enums as integers, non-finite doubles as `"NaN"`,
//! `"Infinity"` and `"-Infinity"`, and scalar fields at their proto3 default left out (oneof
//! members and `optional` fields are kept, since their presence means something).
//!
//! The decoder is a small hand-written reader of the protobuf wire format driven by a static
//! schema table of the opentelemetry-proto v1 messages: one generic walk instead of one
//! function per message. Unknown fields are skipped, repeated scalars are accepted packed and
//! unpacked, and a singular message field seen twice is merged, as protobuf parsers do.
//! Malformed input is a [`ProtoError`] naming the message, field and byte offset; it never
//! panics.

use serde_json::{Map, Value};

/// Which OTLP export request the bytes hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `ExportTraceServiceRequest`
    Traces,
    /// `ExportLogsServiceRequest`
    Logs,
    /// `ExportMetricsServiceRequest`
    Metrics,
}

/// Why protobuf bytes could not be decoded. `at` is the message (`Span`) or message and field
/// (`Span.attributes`, JSON field names) being read; `offset` is the byte in the input where
/// the varint, or the field (its tag) that could not be read, starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("{at}: truncated varint at byte {offset}")]
    TruncatedVarint { at: String, offset: usize },
    #[error("{at}: varint longer than 10 bytes at byte {offset}")]
    VarintTooLong { at: String, offset: usize },
    #[error("{at}: truncated length-delimited field at byte {offset}")]
    TruncatedLength { at: String, offset: usize },
    #[error("{at}: truncated fixed-width field at byte {offset}")]
    TruncatedFixed { at: String, offset: usize },
    #[error("{at}: invalid UTF-8 in a string field at byte {offset}")]
    InvalidUtf8 { at: String, offset: usize },
    #[error("{at}: wire type {got} where {expected} was expected at byte {offset}")]
    WrongWireType {
        at: String,
        offset: usize,
        got: u8,
        expected: &'static str,
    },
    #[error("{at}: group wire type {wire} (protobuf groups are not supported) at byte {offset}")]
    Group { at: String, offset: usize, wire: u8 },
    #[error("{at}: invalid wire type {wire} at byte {offset}")]
    InvalidWireType { at: String, offset: usize, wire: u8 },
    #[error("{at}: invalid field number {num} at byte {offset}")]
    InvalidFieldNumber { at: String, offset: usize, num: u64 },
    #[error("{at}: messages nested deeper than 64 levels at byte {offset}")]
    TooDeep { at: String, offset: usize },
}

/// Decodes an OTLP export request in protobuf into its OTLP/JSON value, ready for the JSON
/// mapping. Empty input is an empty request (`{}`).
pub fn to_json(signal: Signal, bytes: &[u8]) -> Result<Value, ProtoError> {
    let root = match signal {
        Signal::Traces => &EXPORT_TRACE_SERVICE_REQUEST,
        Signal::Logs => &EXPORT_LOGS_SERVICE_REQUEST,
        Signal::Metrics => &EXPORT_METRICS_SERVICE_REQUEST,
    };
    let mut out = Map::new();
    let mut cur = Cur {
        pos: 0,
        end: bytes.len(),
    };
    let dec = Dec { buf: bytes };
    dec.decode_into(&mut cur, root, 0, &mut out)?;
    Ok(Value::Object(out))
}

/// Messages nested below the request deeper than this are refused (only `AnyValue` recurses).
const MAX_DEPTH: usize = 64;
const MAX_FIELD_NUMBER: u64 = (1 << 29) - 1;

const WIRE_VARINT: u8 = 0;
const WIRE_I64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_I32: u8 = 5;

// ---------------------------------------------------------------------------------------
// Schema

struct Msg {
    name: &'static str,
    fields: &'static [Field],
}

struct Field {
    num: u32,
    /// The OTLP/JSON (lowerCamelCase) name.
    name: &'static str,
    ty: Ty,
    card: Card,
}

/// A field's proto type and how its JSON value is written.
#[derive(Clone, Copy)]
enum Ty {
    /// `string`
    Str,
    /// `bytes`, as base64
    Bytes,
    /// `bytes` trace or span id, as lowercase hex
    HexId,
    /// `uint32`, as a number
    U32,
    /// `uint64`, as a decimal string
    U64Str,
    /// `int64`, as a decimal string
    I64Str,
    /// `fixed64`, as a decimal string
    Fixed64Str,
    /// `sfixed64`, as a decimal string
    SFixed64Str,
    /// `fixed32`, as a number
    Fixed32,
    /// `double`, as a number (or `"NaN"`, `"Infinity"`, `"-Infinity"`)
    Double,
    /// `bool`
    Bool,
    /// any enum, as its number
    Enum,
    /// `sint32` (zigzag), as a number
    SInt32,
    Msg(&'static Msg),
}

impl Ty {
    const fn wire(self) -> u8 {
        match self {
            Ty::Str | Ty::Bytes | Ty::HexId | Ty::Msg(_) => WIRE_LEN,
            Ty::U32 | Ty::U64Str | Ty::I64Str | Ty::Bool | Ty::Enum | Ty::SInt32 => WIRE_VARINT,
            Ty::Fixed64Str | Ty::SFixed64Str | Ty::Double => WIRE_I64,
            Ty::Fixed32 => WIRE_I32,
        }
    }
}

/// Cardinality and presence.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Card {
    /// Singular proto3 field: left out at its default value.
    One,
    /// `optional` field: kept whenever it is on the wire.
    Opt,
    /// Member of oneof group n: kept whenever set; setting it clears the group's others.
    OneOf(u8),
    /// `repeated`: a JSON array, kept whenever present.
    Rep,
}

const fn one(num: u32, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        card: Card::One,
    }
}

const fn opt(num: u32, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        card: Card::Opt,
    }
}

const fn oneof(num: u32, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        card: Card::OneOf(0),
    }
}

const fn rep(num: u32, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        card: Card::Rep,
    }
}

static ANY_VALUE: Msg = Msg {
    name: "AnyValue",
    fields: &[
        oneof(1, "stringValue", Ty::Str),
        oneof(2, "boolValue", Ty::Bool),
        oneof(3, "intValue", Ty::I64Str),
        oneof(4, "doubleValue", Ty::Double),
        oneof(5, "arrayValue", Ty::Msg(&ARRAY_VALUE)),
        oneof(6, "kvlistValue", Ty::Msg(&KEY_VALUE_LIST)),
        oneof(7, "bytesValue", Ty::Bytes),
    ],
};

static ARRAY_VALUE: Msg = Msg {
    name: "ArrayValue",
    fields: &[rep(1, "values", Ty::Msg(&ANY_VALUE))],
};

static KEY_VALUE_LIST: Msg = Msg {
    name: "KeyValueList",
    fields: &[rep(1, "values", Ty::Msg(&KEY_VALUE))],
};

static KEY_VALUE: Msg = Msg {
    name: "KeyValue",
    fields: &[one(1, "key", Ty::Str), one(2, "value", Ty::Msg(&ANY_VALUE))],
};

static RESOURCE: Msg = Msg {
    name: "Resource",
    fields: &[
        rep(1, "attributes", Ty::Msg(&KEY_VALUE)),
        one(2, "droppedAttributesCount", Ty::U32),
    ],
};

static SCOPE: Msg = Msg {
    name: "InstrumentationScope",
    fields: &[
        one(1, "name", Ty::Str),
        one(2, "version", Ty::Str),
        rep(3, "attributes", Ty::Msg(&KEY_VALUE)),
        one(4, "droppedAttributesCount", Ty::U32),
    ],
};

// Traces

static EXPORT_TRACE_SERVICE_REQUEST: Msg = Msg {
    name: "ExportTraceServiceRequest",
    fields: &[rep(1, "resourceSpans", Ty::Msg(&RESOURCE_SPANS))],
};

static RESOURCE_SPANS: Msg = Msg {
    name: "ResourceSpans",
    fields: &[
        one(1, "resource", Ty::Msg(&RESOURCE)),
        rep(2, "scopeSpans", Ty::Msg(&SCOPE_SPANS)),
        one(3, "schemaUrl", Ty::Str),
    ],
};

static SCOPE_SPANS: Msg = Msg {
    name: "ScopeSpans",
    fields: &[
        one(1, "scope", Ty::Msg(&SCOPE)),
        rep(2, "spans", Ty::Msg(&SPAN)),
        one(3, "schemaUrl", Ty::Str),
    ],
};

static SPAN: Msg = Msg {
    name: "Span",
    fields: &[
        one(1, "traceId", Ty::HexId),
        one(2, "spanId", Ty::HexId),
        one(3, "traceState", Ty::Str),
        one(4, "parentSpanId", Ty::HexId),
        one(16, "flags", Ty::Fixed32),
        one(5, "name", Ty::Str),
        one(6, "kind", Ty::Enum),
        one(7, "startTimeUnixNano", Ty::Fixed64Str),
        one(8, "endTimeUnixNano", Ty::Fixed64Str),
        rep(9, "attributes", Ty::Msg(&KEY_VALUE)),
        one(10, "droppedAttributesCount", Ty::U32),
        rep(11, "events", Ty::Msg(&SPAN_EVENT)),
        one(12, "droppedEventsCount", Ty::U32),
        rep(13, "links", Ty::Msg(&SPAN_LINK)),
        one(14, "droppedLinksCount", Ty::U32),
        one(15, "status", Ty::Msg(&STATUS)),
    ],
};

static SPAN_EVENT: Msg = Msg {
    name: "Span.Event",
    fields: &[
        one(1, "timeUnixNano", Ty::Fixed64Str),
        one(2, "name", Ty::Str),
        rep(3, "attributes", Ty::Msg(&KEY_VALUE)),
        one(4, "droppedAttributesCount", Ty::U32),
    ],
};

static SPAN_LINK: Msg = Msg {
    name: "Span.Link",
    fields: &[
        one(1, "traceId", Ty::HexId),
        one(2, "spanId", Ty::HexId),
        one(3, "traceState", Ty::Str),
        rep(4, "attributes", Ty::Msg(&KEY_VALUE)),
        one(5, "droppedAttributesCount", Ty::U32),
        one(6, "flags", Ty::Fixed32),
    ],
};

static STATUS: Msg = Msg {
    name: "Status",
    fields: &[one(2, "message", Ty::Str), one(3, "code", Ty::Enum)],
};

// Logs

static EXPORT_LOGS_SERVICE_REQUEST: Msg = Msg {
    name: "ExportLogsServiceRequest",
    fields: &[rep(1, "resourceLogs", Ty::Msg(&RESOURCE_LOGS))],
};

static RESOURCE_LOGS: Msg = Msg {
    name: "ResourceLogs",
    fields: &[
        one(1, "resource", Ty::Msg(&RESOURCE)),
        rep(2, "scopeLogs", Ty::Msg(&SCOPE_LOGS)),
        one(3, "schemaUrl", Ty::Str),
    ],
};

static SCOPE_LOGS: Msg = Msg {
    name: "ScopeLogs",
    fields: &[
        one(1, "scope", Ty::Msg(&SCOPE)),
        rep(2, "logRecords", Ty::Msg(&LOG_RECORD)),
        one(3, "schemaUrl", Ty::Str),
    ],
};

static LOG_RECORD: Msg = Msg {
    name: "LogRecord",
    fields: &[
        one(1, "timeUnixNano", Ty::Fixed64Str),
        one(11, "observedTimeUnixNano", Ty::Fixed64Str),
        one(2, "severityNumber", Ty::Enum),
        one(3, "severityText", Ty::Str),
        one(5, "body", Ty::Msg(&ANY_VALUE)),
        rep(6, "attributes", Ty::Msg(&KEY_VALUE)),
        one(7, "droppedAttributesCount", Ty::U32),
        one(8, "flags", Ty::Fixed32),
        one(9, "traceId", Ty::HexId),
        one(10, "spanId", Ty::HexId),
        one(12, "eventName", Ty::Str),
    ],
};

// Metrics

static EXPORT_METRICS_SERVICE_REQUEST: Msg = Msg {
    name: "ExportMetricsServiceRequest",
    fields: &[rep(1, "resourceMetrics", Ty::Msg(&RESOURCE_METRICS))],
};

static RESOURCE_METRICS: Msg = Msg {
    name: "ResourceMetrics",
    fields: &[
        one(1, "resource", Ty::Msg(&RESOURCE)),
        rep(2, "scopeMetrics", Ty::Msg(&SCOPE_METRICS)),
        one(3, "schemaUrl", Ty::Str),
    ],
};

static SCOPE_METRICS: Msg = Msg {
    name: "ScopeMetrics",
    fields: &[
        one(1, "scope", Ty::Msg(&SCOPE)),
        rep(2, "metrics", Ty::Msg(&METRIC)),
        one(3, "schemaUrl", Ty::Str),
    ],
};

static METRIC: Msg = Msg {
    name: "Metric",
    fields: &[
        one(1, "name", Ty::Str),
        one(2, "description", Ty::Str),
        one(3, "unit", Ty::Str),
        oneof(5, "gauge", Ty::Msg(&GAUGE)),
        oneof(7, "sum", Ty::Msg(&SUM)),
        oneof(9, "histogram", Ty::Msg(&HISTOGRAM)),
        oneof(10, "exponentialHistogram", Ty::Msg(&EXPONENTIAL_HISTOGRAM)),
        oneof(11, "summary", Ty::Msg(&SUMMARY)),
        rep(12, "metadata", Ty::Msg(&KEY_VALUE)),
    ],
};

static GAUGE: Msg = Msg {
    name: "Gauge",
    fields: &[rep(1, "dataPoints", Ty::Msg(&NUMBER_DATA_POINT))],
};

static SUM: Msg = Msg {
    name: "Sum",
    fields: &[
        rep(1, "dataPoints", Ty::Msg(&NUMBER_DATA_POINT)),
        one(2, "aggregationTemporality", Ty::Enum),
        one(3, "isMonotonic", Ty::Bool),
    ],
};

static HISTOGRAM: Msg = Msg {
    name: "Histogram",
    fields: &[
        rep(1, "dataPoints", Ty::Msg(&HISTOGRAM_DATA_POINT)),
        one(2, "aggregationTemporality", Ty::Enum),
    ],
};

static EXPONENTIAL_HISTOGRAM: Msg = Msg {
    name: "ExponentialHistogram",
    fields: &[
        rep(1, "dataPoints", Ty::Msg(&EXPONENTIAL_HISTOGRAM_DATA_POINT)),
        one(2, "aggregationTemporality", Ty::Enum),
    ],
};

static SUMMARY: Msg = Msg {
    name: "Summary",
    fields: &[rep(1, "dataPoints", Ty::Msg(&SUMMARY_DATA_POINT))],
};

static NUMBER_DATA_POINT: Msg = Msg {
    name: "NumberDataPoint",
    fields: &[
        rep(7, "attributes", Ty::Msg(&KEY_VALUE)),
        one(2, "startTimeUnixNano", Ty::Fixed64Str),
        one(3, "timeUnixNano", Ty::Fixed64Str),
        oneof(4, "asDouble", Ty::Double),
        oneof(6, "asInt", Ty::SFixed64Str),
        rep(5, "exemplars", Ty::Msg(&EXEMPLAR)),
        one(8, "flags", Ty::U32),
    ],
};

static HISTOGRAM_DATA_POINT: Msg = Msg {
    name: "HistogramDataPoint",
    fields: &[
        rep(9, "attributes", Ty::Msg(&KEY_VALUE)),
        one(2, "startTimeUnixNano", Ty::Fixed64Str),
        one(3, "timeUnixNano", Ty::Fixed64Str),
        one(4, "count", Ty::Fixed64Str),
        opt(5, "sum", Ty::Double),
        rep(6, "bucketCounts", Ty::Fixed64Str),
        rep(7, "explicitBounds", Ty::Double),
        rep(8, "exemplars", Ty::Msg(&EXEMPLAR)),
        one(10, "flags", Ty::U32),
        opt(11, "min", Ty::Double),
        opt(12, "max", Ty::Double),
    ],
};

static EXPONENTIAL_HISTOGRAM_DATA_POINT: Msg = Msg {
    name: "ExponentialHistogramDataPoint",
    fields: &[
        rep(1, "attributes", Ty::Msg(&KEY_VALUE)),
        one(2, "startTimeUnixNano", Ty::Fixed64Str),
        one(3, "timeUnixNano", Ty::Fixed64Str),
        one(4, "count", Ty::Fixed64Str),
        opt(5, "sum", Ty::Double),
        one(6, "scale", Ty::SInt32),
        one(7, "zeroCount", Ty::Fixed64Str),
        one(8, "positive", Ty::Msg(&BUCKETS)),
        one(9, "negative", Ty::Msg(&BUCKETS)),
        one(10, "flags", Ty::U32),
        rep(11, "exemplars", Ty::Msg(&EXEMPLAR)),
        opt(12, "min", Ty::Double),
        opt(13, "max", Ty::Double),
        one(14, "zeroThreshold", Ty::Double),
    ],
};

static BUCKETS: Msg = Msg {
    name: "ExponentialHistogramDataPoint.Buckets",
    fields: &[
        one(1, "offset", Ty::SInt32),
        rep(2, "bucketCounts", Ty::U64Str),
    ],
};

static SUMMARY_DATA_POINT: Msg = Msg {
    name: "SummaryDataPoint",
    fields: &[
        rep(7, "attributes", Ty::Msg(&KEY_VALUE)),
        one(2, "startTimeUnixNano", Ty::Fixed64Str),
        one(3, "timeUnixNano", Ty::Fixed64Str),
        one(4, "count", Ty::Fixed64Str),
        one(5, "sum", Ty::Double),
        rep(6, "quantileValues", Ty::Msg(&VALUE_AT_QUANTILE)),
        one(8, "flags", Ty::U32),
    ],
};

static VALUE_AT_QUANTILE: Msg = Msg {
    name: "SummaryDataPoint.ValueAtQuantile",
    fields: &[one(1, "quantile", Ty::Double), one(2, "value", Ty::Double)],
};

static EXEMPLAR: Msg = Msg {
    name: "Exemplar",
    fields: &[
        rep(7, "filteredAttributes", Ty::Msg(&KEY_VALUE)),
        one(2, "timeUnixNano", Ty::Fixed64Str),
        oneof(3, "asDouble", Ty::Double),
        oneof(6, "asInt", Ty::SFixed64Str),
        one(4, "spanId", Ty::HexId),
        one(5, "traceId", Ty::HexId),
    ],
};

// ---------------------------------------------------------------------------------------
// Decoder

/// A window `pos..end` of the input being read.
#[derive(Clone, Copy)]
struct Cur {
    pos: usize,
    end: usize,
}

/// Where an error happened, for its message.
#[derive(Clone, Copy)]
struct Loc {
    msg: &'static Msg,
    field: Option<&'static Field>,
}

impl Loc {
    fn path(self) -> String {
        match self.field {
            Some(f) => format!("{}.{}", self.msg.name, f.name),
            None => self.msg.name.to_owned(),
        }
    }
}

struct Dec<'a> {
    buf: &'a [u8],
}

impl<'a> Dec<'a> {
    /// Reads the fields in `cur` as `msg` into `out`; fields already in `out` are merged into
    /// as protobuf merges a message that appears twice.
    fn decode_into(
        &self,
        cur: &mut Cur,
        msg: &'static Msg,
        depth: usize,
        out: &mut Map<String, Value>,
    ) -> Result<(), ProtoError> {
        let here = Loc { msg, field: None };
        while cur.pos < cur.end {
            let tag_at = cur.pos;
            let tag = self.varint(cur, here)?;
            let wire = (tag & 7) as u8;
            let num = tag >> 3;
            if !(1..=MAX_FIELD_NUMBER).contains(&num) {
                return Err(ProtoError::InvalidFieldNumber {
                    at: here.path(),
                    offset: tag_at,
                    num,
                });
            }
            let Some(f) = msg.fields.iter().find(|f| u64::from(f.num) == num) else {
                self.skip(cur, wire, tag_at, here)?;
                continue;
            };
            let loc = Loc {
                msg,
                field: Some(f),
            };
            let want = f.ty.wire();
            if wire == WIRE_LEN && want != WIRE_LEN && f.card == Card::Rep {
                // Packed repeated scalars.
                let mut inner = self.len_delim(cur, tag_at, loc)?;
                let mut items = Vec::new();
                while inner.pos < inner.end {
                    let at = inner.pos;
                    items.push(self.scalar(&mut inner, f.ty, at, loc)?);
                }
                if let Some(a) = out
                    .entry(f.name)
                    .or_insert_with(|| Value::Array(Vec::new()))
                    .as_array_mut()
                {
                    a.extend(items);
                }
                continue;
            }
            if wire != want {
                return Err(ProtoError::WrongWireType {
                    at: loc.path(),
                    offset: tag_at,
                    got: wire,
                    expected: wire_name(want),
                });
            }
            let value = match f.ty {
                Ty::Msg(sub) => {
                    if depth >= MAX_DEPTH {
                        return Err(ProtoError::TooDeep {
                            at: loc.path(),
                            offset: tag_at,
                        });
                    }
                    let mut inner = self.len_delim(cur, tag_at, loc)?;
                    // A singular message seen again is merged into, not replaced.
                    let mut m = if f.card == Card::Rep {
                        Map::new()
                    } else {
                        match out.remove(f.name) {
                            Some(Value::Object(m)) => m,
                            _ => Map::new(),
                        }
                    };
                    self.decode_into(&mut inner, sub, depth + 1, &mut m)?;
                    Value::Object(m)
                }
                ty => self.scalar(cur, ty, tag_at, loc)?,
            };
            store(out, msg, f, value);
        }
        Ok(())
    }

    /// Reads one non-message value of type `ty`. `at` is where its field starts.
    fn scalar(&self, cur: &mut Cur, ty: Ty, at: usize, loc: Loc) -> Result<Value, ProtoError> {
        Ok(match ty {
            Ty::Str => {
                let (start, b) = self.payload(cur, at, loc)?;
                match std::str::from_utf8(b) {
                    Ok(s) => Value::String(s.to_owned()),
                    Err(e) => {
                        return Err(ProtoError::InvalidUtf8 {
                            at: loc.path(),
                            offset: start + e.valid_up_to(),
                        });
                    }
                }
            }
            Ty::Bytes => Value::String(base64(self.payload(cur, at, loc)?.1)),
            Ty::HexId => Value::String(hex(self.payload(cur, at, loc)?.1)),
            // Truncating casts below are protobuf's own rules for 32-bit and signed varints.
            Ty::U32 => Value::from(self.varint(cur, loc)? as u32),
            Ty::U64Str => Value::String(self.varint(cur, loc)?.to_string()),
            Ty::I64Str => Value::String((self.varint(cur, loc)? as i64).to_string()),
            Ty::Enum => Value::from(self.varint(cur, loc)? as i32),
            Ty::SInt32 => {
                let n = self.varint(cur, loc)? as u32;
                Value::from(((n >> 1) as i32) ^ -((n & 1) as i32))
            }
            Ty::Bool => Value::Bool(self.varint(cur, loc)? != 0),
            Ty::Fixed64Str => Value::String(self.fixed64(cur, at, loc)?.to_string()),
            Ty::SFixed64Str => Value::String((self.fixed64(cur, at, loc)? as i64).to_string()),
            Ty::Double => double(f64::from_bits(self.fixed64(cur, at, loc)?)),
            Ty::Fixed32 => {
                let b = self.fixed(cur, 4, at, loc)?;
                match <[u8; 4]>::try_from(b) {
                    Ok(a) => Value::from(u32::from_le_bytes(a)),
                    Err(_) => return Err(truncated_fixed(loc, at)),
                }
            }
            // Not reached: messages are read by `decode_into`. Skip the bytes all the same.
            Ty::Msg(_) => {
                self.len_delim(cur, at, loc)?;
                Value::Null
            }
        })
    }

    /// Skips an unknown field's value.
    fn skip(&self, cur: &mut Cur, wire: u8, at: usize, loc: Loc) -> Result<(), ProtoError> {
        match wire {
            WIRE_VARINT => {
                self.varint(cur, loc)?;
            }
            WIRE_I64 => {
                self.fixed(cur, 8, at, loc)?;
            }
            WIRE_LEN => {
                self.len_delim(cur, at, loc)?;
            }
            WIRE_I32 => {
                self.fixed(cur, 4, at, loc)?;
            }
            3 | 4 => {
                return Err(ProtoError::Group {
                    at: loc.path(),
                    offset: at,
                    wire,
                });
            }
            _ => {
                return Err(ProtoError::InvalidWireType {
                    at: loc.path(),
                    offset: at,
                    wire,
                });
            }
        }
        Ok(())
    }

    fn varint(&self, cur: &mut Cur, loc: Loc) -> Result<u64, ProtoError> {
        let start = cur.pos;
        let mut value = 0u64;
        for shift in (0..70u32).step_by(7) {
            let byte = match self.buf.get(cur.pos) {
                Some(&b) if cur.pos < cur.end => b,
                _ => {
                    return Err(ProtoError::TruncatedVarint {
                        at: loc.path(),
                        offset: start,
                    });
                }
            };
            cur.pos += 1;
            // Bits past 64 in the tenth byte are dropped, as protobuf parsers do.
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtoError::VarintTooLong {
            at: loc.path(),
            offset: start,
        })
    }

    /// Reads a length prefix and returns the window of the value, moving `cur` past it.
    fn len_delim(&self, cur: &mut Cur, at: usize, loc: Loc) -> Result<Cur, ProtoError> {
        let len = self.varint(cur, loc)?;
        let avail = cur.end.saturating_sub(cur.pos);
        match usize::try_from(len) {
            Ok(n) if n <= avail => {
                let inner = Cur {
                    pos: cur.pos,
                    end: cur.pos + n,
                };
                cur.pos = inner.end;
                Ok(inner)
            }
            _ => Err(ProtoError::TruncatedLength {
                at: loc.path(),
                offset: at,
            }),
        }
    }

    /// A length-delimited value's bytes and the offset where they start.
    fn payload(&self, cur: &mut Cur, at: usize, loc: Loc) -> Result<(usize, &'a [u8]), ProtoError> {
        let inner = self.len_delim(cur, at, loc)?;
        match self.buf.get(inner.pos..inner.end) {
            Some(b) => Ok((inner.pos, b)),
            None => Err(ProtoError::TruncatedLength {
                at: loc.path(),
                offset: at,
            }),
        }
    }

    fn fixed(&self, cur: &mut Cur, n: usize, at: usize, loc: Loc) -> Result<&'a [u8], ProtoError> {
        let stop = cur.pos.checked_add(n).filter(|&s| s <= cur.end);
        match stop.and_then(|s| self.buf.get(cur.pos..s).map(|b| (s, b))) {
            Some((s, b)) => {
                cur.pos = s;
                Ok(b)
            }
            None => Err(truncated_fixed(loc, at)),
        }
    }

    fn fixed64(&self, cur: &mut Cur, at: usize, loc: Loc) -> Result<u64, ProtoError> {
        let b = self.fixed(cur, 8, at, loc)?;
        <[u8; 8]>::try_from(b)
            .map(u64::from_le_bytes)
            .map_err(|_| truncated_fixed(loc, at))
    }
}

fn truncated_fixed(loc: Loc, at: usize) -> ProtoError {
    ProtoError::TruncatedFixed {
        at: loc.path(),
        offset: at,
    }
}

fn wire_name(wire: u8) -> &'static str {
    match wire {
        WIRE_VARINT => "0 (varint)",
        WIRE_I64 => "1 (64-bit)",
        WIRE_LEN => "2 (length-delimited)",
        _ => "5 (32-bit)",
    }
}

/// Puts a decoded value in its message's JSON object.
fn store(out: &mut Map<String, Value>, msg: &Msg, f: &Field, value: Value) {
    match f.card {
        Card::Rep => {
            if let Some(a) = out
                .entry(f.name)
                .or_insert_with(|| Value::Array(Vec::new()))
                .as_array_mut()
            {
                a.push(value);
            }
        }
        Card::One if is_default(f.ty, &value) => {
            out.remove(f.name);
        }
        Card::OneOf(group) => {
            for other in msg.fields {
                if other.num != f.num && other.card == Card::OneOf(group) {
                    out.remove(other.name);
                }
            }
            out.insert(f.name.to_owned(), value);
        }
        Card::One | Card::Opt => {
            out.insert(f.name.to_owned(), value);
        }
    }
}

/// Whether a singular scalar holds its proto3 default (then OTLP/JSON leaves it out).
fn is_default(ty: Ty, value: &Value) -> bool {
    match (ty, value) {
        (Ty::Msg(_), _) => false,
        (Ty::U64Str | Ty::I64Str | Ty::Fixed64Str | Ty::SFixed64Str, Value::String(s)) => s == "0",
        (_, Value::String(s)) => s.is_empty(),
        (_, Value::Number(n)) => n.as_f64() == Some(0.0),
        (_, Value::Bool(b)) => !b,
        _ => false,
    }
}

fn double(f: f64) -> Value {
    if f.is_nan() {
        Value::from("NaN")
    } else if f.is_infinite() {
        Value::from(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    s
}

/// Standard base64 with padding, as OTLP/JSON writes `bytes`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4usize {
            if i <= chunk.len() {
                let index = (n >> (18 - 6 * i)) & 0x3f;
                s.push(char::from(
                    ALPHABET.get(index as usize).copied().unwrap_or(b'A'),
                ));
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A tiny protobuf encoder for building test input.
    #[derive(Default, Clone)]
    struct Enc(Vec<u8>);

    fn put_varint(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    impl Enc {
        fn tag(mut self, num: u32, wire: u8) -> Self {
            put_varint(&mut self.0, (u64::from(num) << 3) | u64::from(wire));
            self
        }
        fn varint(self, num: u32, v: u64) -> Self {
            let mut e = self.tag(num, 0);
            put_varint(&mut e.0, v);
            e
        }
        fn fixed64(self, num: u32, v: u64) -> Self {
            let mut e = self.tag(num, 1);
            e.0.extend_from_slice(&v.to_le_bytes());
            e
        }
        fn double(self, num: u32, v: f64) -> Self {
            self.fixed64(num, v.to_bits())
        }
        fn fixed32(self, num: u32, v: u32) -> Self {
            let mut e = self.tag(num, 5);
            e.0.extend_from_slice(&v.to_le_bytes());
            e
        }
        fn bytes(self, num: u32, b: &[u8]) -> Self {
            let mut e = self.tag(num, 2);
            put_varint(&mut e.0, b.len() as u64);
            e.0.extend_from_slice(b);
            e
        }
        fn str(self, num: u32, s: &str) -> Self {
            self.bytes(num, s.as_bytes())
        }
        fn msg(self, num: u32, m: Enc) -> Self {
            self.bytes(num, &m.0)
        }
    }

    fn enc() -> Enc {
        Enc::default()
    }

    fn kv(key: &str, value: Enc) -> Enc {
        enc().str(1, key).msg(2, value)
    }

    /// Wraps spans in ExportTraceServiceRequest > ResourceSpans > ScopeSpans.
    fn traces(spans: &[Enc]) -> Vec<u8> {
        let mut ss = enc().msg(1, enc().str(1, "lib").str(2, "1.0"));
        for s in spans {
            ss = ss.msg(2, s.clone());
        }
        let rs = enc()
            .msg(1, enc().msg(1, kv("service.name", enc().str(1, "svc"))))
            .msg(2, ss);
        enc().msg(1, rs).0
    }

    fn spans_of(v: &Value) -> &Value {
        &v["resourceSpans"][0]["scopeSpans"][0]["spans"]
    }

    const TRACE_ID: [u8; 16] = [
        0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6,
        0x0c,
    ];
    const SPAN_ID: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];
    const PARENT_ID: [u8; 8] = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07];

    fn full_span() -> Enc {
        let array = enc().msg(
            5,
            enc()
                .msg(1, enc().str(1, "a"))
                .msg(1, enc().varint(3, 0))
                .msg(1, enc().msg(5, enc().msg(1, enc().varint(2, 1)))),
        );
        let kvlist = enc().msg(
            6,
            enc()
                .msg(1, kv("inner", enc().varint(2, 0)))
                .msg(1, kv("n", enc().double(4, 0.0))),
        );
        enc()
            .bytes(1, &TRACE_ID)
            .bytes(2, &SPAN_ID)
            .str(3, "k=v")
            .bytes(4, &PARENT_ID)
            .str(5, "chat gpt-4")
            .varint(6, 3)
            .fixed64(7, 1_544_712_660_000_000_000)
            .fixed64(8, 1_544_712_661_000_000_000)
            .msg(9, kv("s", enc().str(1, "text")))
            .msg(9, kv("b", enc().varint(2, 1)))
            .msg(9, kv("i", enc().varint(3, (-5i64) as u64)))
            .msg(9, kv("d", enc().double(4, 1.5)))
            .msg(9, kv("arr", array))
            .msg(9, kv("kv", kvlist))
            .msg(9, kv("raw", enc().bytes(7, &[0, 1, 2, 0xff])))
            .msg(9, kv("empty", enc()))
            .varint(10, 0)
            .msg(11, enc().fixed64(1, 7).str(2, "ev"))
            .msg(
                13,
                enc().bytes(1, &TRACE_ID).bytes(2, &PARENT_ID).fixed32(6, 1),
            )
            .msg(15, enc().str(2, "boom").varint(3, 2))
            .fixed32(16, 0x100)
    }

    #[test]
    fn span_with_every_value_type() {
        let v = to_json(Signal::Traces, &traces(&[full_span()])).unwrap();
        assert_eq!(
            v["resourceSpans"][0]["resource"],
            json!({"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]})
        );
        assert_eq!(
            v["resourceSpans"][0]["scopeSpans"][0]["scope"],
            json!({"name": "lib", "version": "1.0"})
        );
        let expected = json!([{
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": "eee19b7ec3c1b174",
            "traceState": "k=v",
            "parentSpanId": "0001020304050607",
            "name": "chat gpt-4",
            "kind": 3,
            "startTimeUnixNano": "1544712660000000000",
            "endTimeUnixNano": "1544712661000000000",
            "attributes": [
                {"key": "s", "value": {"stringValue": "text"}},
                {"key": "b", "value": {"boolValue": true}},
                {"key": "i", "value": {"intValue": "-5"}},
                {"key": "d", "value": {"doubleValue": 1.5}},
                {"key": "arr", "value": {"arrayValue": {"values": [
                    {"stringValue": "a"},
                    {"intValue": "0"},
                    {"arrayValue": {"values": [{"boolValue": true}]}}
                ]}}},
                {"key": "kv", "value": {"kvlistValue": {"values": [
                    {"key": "inner", "value": {"boolValue": false}},
                    {"key": "n", "value": {"doubleValue": 0.0}}
                ]}}},
                {"key": "raw", "value": {"bytesValue": "AAEC/w=="}},
                {"key": "empty", "value": {}}
            ],
            "events": [{"timeUnixNano": "7", "name": "ev"}],
            "links": [{
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "0001020304050607",
                "flags": 1
            }],
            "status": {"message": "boom", "code": 2},
            "flags": 256
        }]);
        assert_eq!(spans_of(&v), &expected);
    }

    #[test]
    fn empty_input_is_an_empty_request() {
        assert_eq!(to_json(Signal::Logs, &[]).unwrap(), json!({}));
    }

    #[test]
    fn unknown_fields_are_skipped() {
        let plain = enc().bytes(2, &SPAN_ID).str(5, "op");
        let noisy = enc()
            .varint(100, u64::MAX)
            .bytes(2, &SPAN_ID)
            .fixed64(101, 9)
            .bytes(102, b"\xff\xfe not utf-8 but unknown")
            .fixed32(103, 1)
            .str(5, "op")
            .varint(536_870_911, 1);
        let mut noisy_bytes = traces(&[noisy]);
        // An unknown field at the top level too.
        noisy_bytes.extend(enc().str(9, "x").0);
        let a = to_json(Signal::Traces, &traces(&[plain])).unwrap();
        let b = to_json(Signal::Traces, &noisy_bytes).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            spans_of(&b),
            &json!([{"spanId": "eee19b7ec3c1b174", "name": "op"}])
        );
    }

    fn histogram_request(point: Enc) -> Vec<u8> {
        let metric = enc()
            .str(1, "latency")
            .str(3, "s")
            .msg(9, enc().msg(1, point).varint(2, 2));
        let sm = enc().msg(2, metric);
        enc().msg(1, enc().msg(2, sm)).0
    }

    fn first_metric(v: &Value) -> &Value {
        &v["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]
    }

    #[test]
    fn packed_and_unpacked_repeated_fixed64_agree() {
        let mut counts = Vec::new();
        let mut bounds = Vec::new();
        for c in [1u64, 2, 3] {
            counts.extend_from_slice(&c.to_le_bytes());
        }
        for b in [0.5f64, 1.0] {
            bounds.extend_from_slice(&b.to_le_bytes());
        }
        let packed = enc().bytes(6, &counts).bytes(7, &bounds);
        let unpacked = enc()
            .fixed64(6, 1)
            .fixed64(6, 2)
            .fixed64(6, 3)
            .double(7, 0.5)
            .double(7, 1.0);
        let mixed = enc()
            .bytes(6, &counts[..8])
            .fixed64(6, 2)
            .bytes(6, &counts[16..]);
        let mixed = mixed.double(7, 0.5).bytes(7, &bounds[8..]);
        let want = json!({
            "bucketCounts": ["1", "2", "3"],
            "explicitBounds": [0.5, 1.0]
        });
        for point in [packed, unpacked, mixed] {
            let v = to_json(Signal::Metrics, &histogram_request(point)).unwrap();
            assert_eq!(first_metric(&v)["histogram"]["dataPoints"][0], want);
        }
        // An empty packed field is still an array that is present.
        let v = to_json(Signal::Metrics, &histogram_request(enc().bytes(6, &[]))).unwrap();
        assert_eq!(
            first_metric(&v)["histogram"]["dataPoints"][0],
            json!({"bucketCounts": []})
        );
    }

    #[test]
    fn histogram_data_point() {
        let point = enc()
            .msg(9, kv("route", enc().str(1, "/a")))
            .fixed64(2, 10)
            .fixed64(3, 20)
            .fixed64(4, 5)
            .double(5, 0.0)
            .bytes(6, &[1u64, 4].map(u64::to_le_bytes).concat())
            .bytes(7, &1.0f64.to_le_bytes())
            .varint(10, 1)
            .double(11, 0.25)
            .double(12, f64::INFINITY);
        let v = to_json(Signal::Metrics, &histogram_request(point)).unwrap();
        assert_eq!(
            first_metric(&v),
            &json!({
                "name": "latency",
                "unit": "s",
                "histogram": {
                    "aggregationTemporality": 2,
                    "dataPoints": [{
                        "attributes": [{"key": "route", "value": {"stringValue": "/a"}}],
                        "startTimeUnixNano": "10",
                        "timeUnixNano": "20",
                        "count": "5",
                        "sum": 0.0,
                        "bucketCounts": ["1", "4"],
                        "explicitBounds": [1.0],
                        "flags": 1,
                        "min": 0.25,
                        "max": "Infinity"
                    }]
                }
            })
        );
    }

    #[test]
    fn gauge_sum_and_exponential_points() {
        let gauge = enc().str(1, "g").msg(
            5,
            enc()
                .msg(1, enc().fixed64(3, 99).fixed64(6, (-3i64) as u64))
                .msg(1, enc().double(4, 0.0))
                .msg(1, enc().double(4, f64::NAN)),
        );
        let sum = enc().str(1, "c").msg(
            7,
            enc()
                .msg(
                    1,
                    enc().double(4, 2.5).msg(
                        5,
                        enc()
                            .msg(7, kv("k", enc().str(1, "v")))
                            .fixed64(2, 1)
                            .fixed64(6, 4)
                            .bytes(4, &SPAN_ID)
                            .bytes(5, &TRACE_ID),
                    ),
                )
                .varint(2, 1)
                .varint(3, 1),
        );
        let buckets = enc().varint(1, 5).bytes(2, &[3, 0x80, 0x01]);
        let expo = enc().str(1, "e").msg(
            10,
            enc().msg(
                1,
                enc()
                    .fixed64(4, 3)
                    .varint(6, 5)
                    .fixed64(7, 1)
                    .msg(8, buckets)
                    .msg(9, enc().varint(1, 4).varint(2, 7).varint(2, 8)),
            ),
        );
        let summary = enc().str(1, "s").msg(
            11,
            enc().msg(
                1,
                enc()
                    .fixed64(4, 2)
                    .double(5, 3.0)
                    .msg(6, enc().double(1, 0.5).double(2, 1.0))
                    .msg(6, enc().double(1, 1.0).double(2, -2.0)),
            ),
        );
        let sm = enc().msg(2, gauge).msg(2, sum).msg(2, expo).msg(2, summary);
        let bytes = enc().msg(1, enc().msg(2, sm)).0;
        let v = to_json(Signal::Metrics, &bytes).unwrap();
        assert_eq!(
            v["resourceMetrics"][0]["scopeMetrics"][0]["metrics"],
            json!([
                {"name": "g", "gauge": {"dataPoints": [
                    {"timeUnixNano": "99", "asInt": "-3"},
                    {"asDouble": 0.0},
                    {"asDouble": "NaN"}
                ]}},
                {"name": "c", "sum": {
                    "dataPoints": [{"asDouble": 2.5, "exemplars": [{
                        "filteredAttributes": [{"key": "k", "value": {"stringValue": "v"}}],
                        "timeUnixNano": "1",
                        "asInt": "4",
                        "spanId": "eee19b7ec3c1b174",
                        "traceId": "5b8efff798038103d269b633813fc60c"
                    }]}],
                    "aggregationTemporality": 1,
                    "isMonotonic": true
                }},
                {"name": "e", "exponentialHistogram": {"dataPoints": [{
                    "count": "3",
                    "scale": -3,
                    "zeroCount": "1",
                    "positive": {"offset": -3, "bucketCounts": ["3", "128"]},
                    "negative": {"offset": 2, "bucketCounts": ["7", "8"]}
                }]}},
                {"name": "s", "summary": {"dataPoints": [{
                    "count": "2",
                    "sum": 3.0,
                    "quantileValues": [
                        {"quantile": 0.5, "value": 1.0},
                        {"quantile": 1.0, "value": -2.0}
                    ]
                }]}}
            ])
        );
    }

    #[test]
    fn log_record_with_body() {
        let record = enc()
            .fixed64(1, 1_700_000_000_000_000_001)
            .fixed64(11, 1_700_000_000_000_000_002)
            .varint(2, 9)
            .str(3, "INFO")
            .msg(5, enc().str(1, "hello"))
            .msg(6, kv("user", enc().varint(3, 42)))
            .fixed32(8, 1)
            .bytes(9, &TRACE_ID)
            .bytes(10, &SPAN_ID)
            .str(12, "login");
        let sl = enc()
            .msg(1, enc().str(1, "app"))
            .msg(2, record)
            .str(3, "https://x");
        let bytes = enc().msg(1, enc().msg(2, sl)).0;
        let v = to_json(Signal::Logs, &bytes).unwrap();
        assert_eq!(
            v,
            json!({"resourceLogs": [{"scopeLogs": [{
                "scope": {"name": "app"},
                "logRecords": [{
                    "timeUnixNano": "1700000000000000001",
                    "observedTimeUnixNano": "1700000000000000002",
                    "severityNumber": 9,
                    "severityText": "INFO",
                    "body": {"stringValue": "hello"},
                    "attributes": [{"key": "user", "value": {"intValue": "42"}}],
                    "flags": 1,
                    "traceId": "5b8efff798038103d269b633813fc60c",
                    "spanId": "eee19b7ec3c1b174",
                    "eventName": "login"
                }],
                "schemaUrl": "https://x"
            }]}]})
        );
    }

    #[test]
    fn oneof_last_wins_and_repeated_messages_merge() {
        let record = enc()
            .msg(5, enc().str(1, "first"))
            .msg(5, enc().varint(3, 7))
            .str(3, "WARN")
            .str(3, "");
        let bytes = enc().msg(1, enc().msg(2, enc().msg(2, record))).0;
        let v = to_json(Signal::Logs, &bytes).unwrap();
        assert_eq!(
            v["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0],
            json!({"body": {"intValue": "7"}})
        );
        // A singular message field that appears twice is merged.
        let scope = enc()
            .msg(1, enc().str(1, "lib"))
            .msg(1, enc().str(2, "2.0"));
        let v = to_json(Signal::Logs, &enc().msg(1, enc().msg(2, scope)).0).unwrap();
        assert_eq!(
            v["resourceLogs"][0]["scopeLogs"][0]["scope"],
            json!({"name": "lib", "version": "2.0"})
        );
    }

    #[test]
    fn encoders() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
        assert_eq!(hex(&[0x00, 0xab, 0x0f]), "00ab0f");
        assert_eq!(double(f64::NEG_INFINITY), json!("-Infinity"));
    }

    fn err(signal: Signal, bytes: &[u8]) -> String {
        match to_json(signal, bytes) {
            Ok(v) => format!("unexpectedly decoded: {v}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn malformed_input_is_an_error() {
        // Truncated varint (the tag itself).
        assert_eq!(
            err(Signal::Traces, &[0x80]),
            "ExportTraceServiceRequest: truncated varint at byte 0"
        );
        // Truncated length prefix.
        assert!(matches!(
            to_json(Signal::Traces, &[0x0a, 0x80]),
            Err(ProtoError::TruncatedVarint { offset: 1, .. })
        ));
        // Length past the end.
        assert_eq!(
            err(Signal::Traces, &[0x0a, 0x05, 0x00]),
            "ExportTraceServiceRequest.resourceSpans: truncated length-delimited field at byte 0"
        );
        // A length past the end of the enclosing message, though not of the input.
        // The span ends [0x4a, 3, 0x0a, 1, b'k']: make the key's length 127.
        let mut nested = traces(&[enc().msg(9, enc().str(1, "k"))]);
        let key_len_at = nested.len() - 2;
        nested[key_len_at] = 0x7f;
        nested.extend([0u8; 200]);
        assert!(err(Signal::Traces, &nested).contains("truncated"));
        // Truncated fixed-width value.
        let mut short = traces(&[enc().fixed64(7, 1)]);
        short.truncate(short.len() - 1);
        assert!(to_json(Signal::Traces, &short).is_err());
        // Varint over 10 bytes; 10 bytes are fine.
        let mut ten: Vec<u8> = vec![0x10];
        ten.extend([0xff; 9]);
        ten.push(0x01);
        assert!(to_json(Signal::Traces, &ten).is_ok());
        let mut eleven: Vec<u8> = vec![0x10];
        eleven.extend([0x80; 10]);
        eleven.push(0x01);
        assert_eq!(
            err(Signal::Traces, &eleven),
            "ExportTraceServiceRequest: varint longer than 10 bytes at byte 1"
        );
        // Invalid UTF-8 in a string field.
        let bad = traces(&[enc().bytes(5, b"ok\xff")]);
        let e = err(Signal::Traces, &bad);
        assert!(e.starts_with("Span.name: invalid UTF-8"), "{e}");
        let offset = bad.len() - 1;
        assert!(e.ends_with(&format!("at byte {offset}")), "{e}");
        // Wrong wire type for a known field.
        let e = err(Signal::Traces, &traces(&[enc().varint(5, 1)]));
        assert!(e.starts_with("Span.name: wire type 0 where 2"), "{e}");
        let e = err(Signal::Traces, &traces(&[enc().str(7, "x")]));
        assert!(e.starts_with("Span.startTimeUnixNano: wire type 2"), "{e}");
        // Groups, invalid wire types, field number 0.
        for (bytes, want) in [
            (vec![0x13u8], "group wire type 3"),
            (vec![0x14], "group wire type 4"),
            (vec![0x16], "invalid wire type 6"),
            (vec![0x17], "invalid wire type 7"),
            (vec![0x00], "invalid field number 0"),
        ] {
            let e = err(Signal::Metrics, &bytes);
            assert!(e.contains(want), "{e}");
        }
    }

    fn nested_array(levels: usize) -> Vec<u8> {
        let mut value = enc().str(1, "leaf");
        for _ in 0..levels {
            value = enc().msg(5, enc().msg(1, value));
        }
        traces(&[enc().msg(9, kv("deep", value))])
    }

    #[test]
    fn nesting_is_limited() {
        // Request > ResourceSpans > ScopeSpans > Span > KeyValue > AnyValue is 5 levels down;
        // each array adds 2.
        assert!(to_json(Signal::Traces, &nested_array(29)).is_ok());
        let e = err(Signal::Traces, &nested_array(31));
        assert!(e.contains("nested deeper than 64"), "{e}");
        assert!(to_json(Signal::Traces, &nested_array(1000)).is_err());
    }

    #[test]
    fn truncated_or_corrupted_input_never_panics() {
        let full = traces(&[full_span(), full_span()]);
        for len in 0..full.len() {
            let _ = to_json(Signal::Traces, &full[..len]);
        }
        for i in 0..full.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut b = full.clone();
                if let Some(x) = b.get_mut(i) {
                    *x ^= flip;
                }
                let _ = to_json(Signal::Traces, &b);
                let _ = to_json(Signal::Metrics, &b);
                let _ = to_json(Signal::Logs, &b);
            }
        }
    }
}
