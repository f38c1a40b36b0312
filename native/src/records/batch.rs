//! Rows of natively analyzed TLS connections, kept until Python takes them as one Arrow record batch: the
//! connection table's `conn` and `tls` groups (`tlsmon/records/conn.py`, `tlsmon/tls/summary.py`), column
//! for column, with the values Python's `Recorder` would have written.
//!
//! Theory of operation. A connection TLS from its first byte ends in the tracker with its transport facts
//! (`ConnEnd`) and its TLS part (`TlsRow`). Instead of crossing the boundary as Python objects, both wait
//! here; Python takes the rows a batch at a time (`build`), handing in what only it knows: each row's
//! sequence number (the uid's input, shared with the rows Python writes itself) and the anomalies its
//! certificate analysis added (x509 stays in Python, with cryptography). A row none of whose values can be
//! out of its column's range is the only kind kept here (`fits`): the others are written by Python, which
//! fits them and names what it changed (tlsmon/output/fit.py).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    ListBuilder, PrimitiveBuilder, StringBuilder, StructBuilder, UInt8Builder,
};
use arrow_array::types::{ArrowPrimitiveType, UInt16Type, UInt32Type, UInt8Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, StringArray, StructArray,
    TimestampNanosecondArray, UInt16Array, UInt32Array, UInt64Array, UInt8Array,
};
use arrow_schema::{DataType, Field, Fields};

use crate::dispatch::TlsRow;
use crate::records::conn::{address_text, community_id, uid};
use crate::records::zeek;
use crate::tcp::connection::END_EVICTED;
use crate::tcp::endpoint::conn_state;
use crate::tcp::events::ConnEnd;
use crate::tls::summary::Summary;

/// One natively analyzed connection's row, as it ended.
#[derive(Debug)]
pub struct NativeRow {
    pub end: ConnEnd,
    pub tls: TlsRow,
}

impl NativeRow {
    /// The history with G/g for a direction that missed bytes (`conn_summary`).
    fn history(&self) -> String {
        let mut history = self.end.history.clone();
        if self.orig_missed() > 0 && !history.contains('G') {
            history.push('G');
        }
        if self.resp_missed() > 0 && !history.contains('g') {
            history.push('g');
        }
        history
    }

    fn orig_missed(&self) -> u64 {
        self.tls.missed[1]
    }

    fn resp_missed(&self) -> u64 {
        self.tls.missed[0]
    }

    fn anomalies(&self) -> impl Iterator<Item = &str> {
        self.tls
            .transport_anomalies
            .iter()
            .chain(&self.tls.tls_anomalies)
            .copied()
    }
}

/// Whether every value of the row is within its column's range as this module writes it.
pub fn fits(end: &ConnEnd, s: &Summary) -> bool {
    let u8s = [
        s.client_status_request,
        s.client_heartbeat,
        s.client_ech_config_id,
        s.server_compression,
    ];
    let u16s = [
        s.version_code,
        s.curve_code,
        s.client_version_code,
        s.client_session_id_len,
        s.client_session_ticket_len,
        s.client_padding_len,
        s.client_record_size_limit,
        s.client_ech_kdf,
        s.client_ech_aead,
        s.server_version_code,
        s.server_key_share_group,
        s.hrr_group,
    ];
    let u8_lists = [
        &s.client_compression_methods,
        &s.client_ec_point_formats,
        &s.client_psk_modes,
    ];
    let u16_lists = [
        &s.client_extensions,
        &s.client_malformed_extensions,
        &s.client_supported_versions,
        &s.client_supported_groups,
        &s.client_key_share_groups,
        &s.client_signature_algorithms,
        &s.server_extensions,
        &s.server_malformed_extensions,
    ];
    let span = end.seqs.last_ts.checked_sub(end.start_ts);
    u8s.iter().flatten().all(|&v| v <= u8::MAX.into())
        && u16s.iter().flatten().all(|&v| v <= u16::MAX.into())
        && u8_lists
            .iter()
            .all(|l| l.iter().all(|&v| v <= u8::MAX.into()))
        && u16_lists
            .iter()
            .all(|l| l.iter().all(|&v| v <= u16::MAX.into()))
        && s.alerts
            .iter()
            .all(|a| a.level <= 255 && a.description <= 255)
        && end.paths <= u8::MAX.into()
        && span.is_some_and(|d| d < zeek::MAX_EXACT_SPAN)
}

/// The rows waiting for Python, in the order they ended.
#[derive(Debug, Default)]
pub struct NativeRows {
    rows: Vec<NativeRow>,
}

impl NativeRows {
    pub fn push(&mut self, end: ConnEnd, tls: TlsRow) {
        self.rows.push(NativeRow { end, tls });
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The first `sequences.len()` rows as one struct array (the `conn` then the `tls` columns), taken out
    /// of the store, and what the run's figures count of them. Python numbers the rows as it meets their
    /// markers, so it may take fewer than the store holds (the others' markers come later in its event list).
    /// `sequences`: each row's uid sequence number; `extra`: anomalies to add to a row, by its index.
    pub fn build(
        &mut self,
        sequences: &[u64],
        extra: &[(usize, Vec<String>)],
    ) -> Result<(StructArray, RowCounts), String> {
        self.prepare(sequences)?.finish(extra)
    }

    /// The first `sequences.len()` rows taken out of the store with their columns built as if Python added
    /// nothing to them: the part of `build` that needs nothing from Python (the engine runs it without the
    /// GIL while Python makes the rows' certificate columns).
    pub fn prepare(&mut self, sequences: &[u64]) -> Result<PreparedRows, String> {
        let n = sequences.len();
        if n > self.rows.len() {
            return Err(format!("{n} sequence numbers for {} rows", self.rows.len()));
        }
        let rows: Vec<NativeRow> = self.rows.drain(..n).collect();
        let mut columns = conn_columns(&rows, sequences, &vec![&[][..]; n]);
        columns.extend(tls_columns(&rows));
        Ok(PreparedRows { rows, columns })
    }
}

/// Rows out of the store with their columns, waiting for what Python adds (`NativeRows::prepare`).
#[derive(Debug)]
pub struct PreparedRows {
    rows: Vec<NativeRow>,
    columns: Vec<Column>,
}

impl PreparedRows {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows as one struct array with `extra` (anomalies by row index) added, and what the run's figures
    /// count of them.
    pub fn finish(
        mut self,
        extra: &[(usize, Vec<String>)],
    ) -> Result<(StructArray, RowCounts), String> {
        let n = self.rows.len();
        if let Some((row, _)) = extra.iter().find(|(row, _)| *row >= n) {
            return Err(format!("anomalies for row {row} of {n}"));
        }
        if !extra.is_empty() {
            let of = extra_of(n, extra);
            for (name, array) in &mut self.columns {
                match *name {
                    "anomalies" => *array = anomalies_column(&self.rows, &of),
                    "service" => *array = service_column(&self.rows, &of),
                    _ => {}
                }
            }
        }
        debug_assert!(COLUMNS_WITH_EXTRA
            .iter()
            .all(|c| self.columns.iter().any(|(name, _)| name == c)));
        let counts = RowCounts::of(&self.rows, extra);
        let fields: Fields = self
            .columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect();
        let arrays = self.columns.into_iter().map(|(_, array)| array).collect();
        let array = StructArray::try_new(fields, arrays, None).map_err(|e| e.to_string())?;
        Ok((array, counts))
    }
}

/// What the run's figures (`RunStats`, live's `LiveCounters`) take from a batch: rows evicted, rows with
/// gaps and their missed bytes, rows by TLS version ("unknown" for none), by cipher (named ones), and the
/// anomalies.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RowCounts {
    pub evicted: u64,
    pub with_gaps: u64,
    pub missed_bytes: u64,
    pub versions: HashMap<String, u64>,
    pub ciphers: HashMap<String, u64>,
    pub anomalies: HashMap<String, u64>,
}

impl RowCounts {
    fn of(rows: &[NativeRow], extra: &[(usize, Vec<String>)]) -> Self {
        let mut counts = RowCounts::default();
        for row in rows {
            let s = &row.tls.summary;
            counts.evicted += u64::from(row.end.end_reason == END_EVICTED);
            let missed = row.orig_missed() + row.resp_missed();
            counts.with_gaps += u64::from(missed > 0);
            counts.missed_bytes += missed;
            *counts
                .versions
                .entry(s.version.clone().unwrap_or_else(|| "unknown".to_owned()))
                .or_default() += 1;
            if let Some(cipher) = s.cipher.as_ref().filter(|c| !c.is_empty()) {
                *counts.ciphers.entry(cipher.clone()).or_default() += 1;
            }
            for name in row.anomalies() {
                *counts.anomalies.entry(name.to_owned()).or_default() += 1;
            }
        }
        for name in extra.iter().flat_map(|(_, names)| names) {
            *counts.anomalies.entry(name.clone()).or_default() += 1;
        }
        counts
    }
}

type Column = (&'static str, ArrayRef);

fn strings<'a>(
    rows: &'a [NativeRow],
    value: impl Fn(&'a NativeRow) -> Option<&'a str>,
) -> ArrayRef {
    Arc::new(rows.iter().map(value).collect::<StringArray>())
}

fn owned_strings(rows: &[NativeRow], value: impl Fn(&NativeRow) -> Option<String>) -> ArrayRef {
    Arc::new(rows.iter().map(value).collect::<StringArray>())
}

fn bools(rows: &[NativeRow], value: impl Fn(&NativeRow) -> Option<bool>) -> ArrayRef {
    Arc::new(rows.iter().map(value).collect::<BooleanArray>())
}

fn u8s(rows: &[NativeRow], value: impl Fn(&NativeRow) -> Option<u32>) -> ArrayRef {
    Arc::new(
        rows.iter()
            .map(|r| value(r).map(|v| v as u8))
            .collect::<UInt8Array>(),
    )
}

fn u16s(rows: &[NativeRow], value: impl Fn(&NativeRow) -> Option<u32>) -> ArrayRef {
    Arc::new(
        rows.iter()
            .map(|r| value(r).map(|v| v as u16))
            .collect::<UInt16Array>(),
    )
}

fn u32s(rows: &[NativeRow], value: impl Fn(&NativeRow) -> Option<u32>) -> ArrayRef {
    Arc::new(rows.iter().map(value).collect::<UInt32Array>())
}

fn u64s(rows: &[NativeRow], value: impl Fn(&NativeRow) -> u64) -> ArrayRef {
    Arc::new(rows.iter().map(|r| Some(value(r))).collect::<UInt64Array>())
}

/// A `list<T>` column of codes (kept as u32 by the analyzer, narrowed: `fits` checked the range).
fn code_lists<T: ArrowPrimitiveType>(
    rows: &[NativeRow],
    value: impl Fn(&NativeRow) -> &[u32],
    narrow: impl Fn(u32) -> T::Native,
) -> ArrayRef {
    let mut builder = ListBuilder::new(PrimitiveBuilder::<T>::new());
    for row in rows {
        for &v in value(row) {
            builder.values().append_value(narrow(v));
        }
        builder.append(true);
    }
    Arc::new(builder.finish())
}

fn string_lists<'a, I: IntoIterator<Item = &'a str>>(
    rows: &'a [NativeRow],
    value: impl Fn(&'a NativeRow) -> I,
) -> ArrayRef {
    let mut builder = ListBuilder::new(StringBuilder::new());
    for row in rows {
        for v in value(row) {
            builder.values().append_value(v);
        }
        builder.append(true);
    }
    Arc::new(builder.finish())
}

fn timestamps(rows: &[NativeRow], value: impl Fn(&NativeRow) -> i64) -> ArrayRef {
    Arc::new(
        rows.iter()
            .map(|r| Some(value(r)))
            .collect::<TimestampNanosecondArray>()
            .with_timezone("UTC"),
    )
}

/// Each row's anomalies from Python (its certificates'), empty for most.
fn extra_of(n: usize, extra: &[(usize, Vec<String>)]) -> Vec<&[String]> {
    let mut of: Vec<&[String]> = vec![&[]; n];
    for (row, names) in extra {
        of[*row] = names;
    }
    of
}

/// The `anomalies` column: the row's own, then those Python adds.
fn anomalies_column(rows: &[NativeRow], extra_of: &[&[String]]) -> ArrayRef {
    let mut anomalies = ListBuilder::new(StringBuilder::new());
    for (row, more) in rows.iter().zip(extra_of) {
        for name in row.anomalies() {
            anomalies.values().append_value(name);
        }
        for name in *more {
            anomalies.values().append_value(name);
        }
        anomalies.append(true);
    }
    Arc::new(anomalies.finish())
}

/// The `service` column, which depends on every anomaly of the row (Zeek's rule: zeek.rs).
fn service_column(rows: &[NativeRow], extra_of: &[&[String]]) -> ArrayRef {
    Arc::new(
        rows.iter()
            .zip(extra_of)
            .map(|(r, more)| {
                let all = r.anomalies().chain(more.iter().map(String::as_str));
                zeek::tls_service(r.tls.summary.version.is_some(), all)
            })
            .collect::<StringArray>(),
    )
}

/// The columns that depend on what Python adds to a row.
const COLUMNS_WITH_EXTRA: [&str; 2] = ["anomalies", "service"];

#[allow(clippy::too_many_lines)] // one entry per column, in the table's order
fn conn_columns(rows: &[NativeRow], sequences: &[u64], extra_of: &[&[String]]) -> Vec<Column> {
    let histories: Vec<String> = rows.iter().map(NativeRow::history).collect();
    let seq_first = |seen: bool, start: u32| seen.then(|| start.wrapping_add(1));
    vec![
        (
            "uid",
            owned_strings_indexed(rows, |i, r| {
                let e = &r.end;
                uid(
                    sequences[i],
                    e.start_ts,
                    e.orig_h,
                    e.orig_p,
                    e.resp_h,
                    e.resp_p,
                )
            }),
        ),
        ("ts_start", timestamps(rows, |r| r.end.start_ts)),
        ("ts_end", timestamps(rows, |r| r.end.last_ts)),
        (
            "orig_h",
            owned_strings(rows, |r| Some(address_text(r.end.orig_h))),
        ),
        ("orig_p", u16s(rows, |r| Some(r.end.orig_p.into()))),
        (
            "resp_h",
            owned_strings(rows, |r| Some(address_text(r.end.resp_h))),
        ),
        ("resp_p", u16s(rows, |r| Some(r.end.resp_p.into()))),
        ("ip_version", u8s(rows, |r| Some(r.end.ip_version.into()))),
        ("vlan", u16s(rows, |r| r.end.vlan.map(u32::from))),
        ("orig_pkts", u64s(rows, |r| r.end.orig_pkts)),
        ("resp_pkts", u64s(rows, |r| r.end.resp_pkts)),
        (
            "orig_bytes",
            u64s(rows, |r| r.end.seqs.orig.size(&r.end.seqs.resp)),
        ),
        (
            "resp_bytes",
            u64s(rows, |r| r.end.seqs.resp.size(&r.end.seqs.orig)),
        ),
        ("orig_payload_bytes", u64s(rows, |r| r.end.orig_bytes)),
        ("resp_payload_bytes", u64s(rows, |r| r.end.resp_bytes)),
        ("orig_missed_bytes", u64s(rows, NativeRow::orig_missed)),
        ("resp_missed_bytes", u64s(rows, NativeRow::resp_missed)),
        (
            "missed_bytes",
            u64s(rows, |r| r.orig_missed() + r.resp_missed()),
        ),
        (
            "history",
            Arc::new(
                histories
                    .iter()
                    .map(|h| Some(h.as_str()))
                    .collect::<StringArray>(),
            ),
        ),
        ("end_reason", strings(rows, |r| Some(r.end.end_reason))),
        ("app_proto", strings(rows, |_| Some("tls"))),
        ("tls_mode", strings(rows, |_| Some("implicit"))),
        ("anomalies", anomalies_column(rows, extra_of)),
        (
            "orig_seq_first",
            u32s(rows, |r| {
                seq_first(r.end.orig_seen, r.end.seqs.orig.start_seq)
            }),
        ),
        (
            "orig_seq_next",
            u32s(rows, |r| {
                r.end.orig_seen.then_some(r.end.seqs.orig.last_seq)
            }),
        ),
        (
            "resp_seq_first",
            u32s(rows, |r| {
                seq_first(r.end.resp_seen, r.end.seqs.resp.start_seq)
            }),
        ),
        (
            "resp_seq_next",
            u32s(rows, |r| {
                r.end.resp_seen.then_some(r.end.seqs.resp.last_seq)
            }),
        ),
        (
            "community_id",
            owned_strings(rows, |r| {
                let e = &r.end;
                Some(community_id(
                    e.orig_h, e.orig_p, e.resp_h, e.resp_p, e.proto,
                ))
            }),
        ),
        ("proto", strings(rows, |_| Some("tcp"))),
        ("transport", strings(rows, |_| Some("tls"))),
        ("service", service_column(rows, extra_of)),
        (
            "duration",
            Arc::new(
                rows.iter()
                    .map(|r| zeek::duration(r.end.start_ts, r.end.seqs.last_ts))
                    .collect::<Float64Array>(),
            ),
        ),
        (
            "conn_state",
            Arc::new(
                rows.iter()
                    .zip(&histories)
                    .map(|(r, history)| {
                        let (o, p) = (&r.end.seqs.orig, &r.end.seqs.resp);
                        Some(conn_state(o.state, p.state, o.size(p), p.size(o), history))
                    })
                    .collect::<StringArray>(),
            ),
        ),
        ("paths", u8s(rows, |r| Some(r.end.paths))),
    ]
}

fn owned_strings_indexed(
    rows: &[NativeRow],
    value: impl Fn(usize, &NativeRow) -> String,
) -> ArrayRef {
    Arc::new(
        rows.iter()
            .enumerate()
            .map(|(i, r)| Some(value(i, r)))
            .collect::<StringArray>(),
    )
}

fn alerts(rows: &[NativeRow]) -> ArrayRef {
    let fields = Fields::from(vec![
        Field::new("direction", DataType::Utf8, false),
        Field::new("level", DataType::UInt8, false),
        Field::new("description", DataType::UInt8, false),
        Field::new("name", DataType::Utf8, false),
    ]);
    let alert = StructBuilder::new(
        fields,
        vec![
            Box::new(StringBuilder::new()),
            Box::new(UInt8Builder::new()),
            Box::new(UInt8Builder::new()),
            Box::new(StringBuilder::new()),
        ],
    );
    let mut builder = ListBuilder::new(alert);
    for row in rows {
        let alert = builder.values();
        for a in &row.tls.summary.alerts {
            let direction = if a.is_orig { "orig" } else { "resp" };
            field::<StringBuilder>(alert, 0).append_value(direction);
            field::<UInt8Builder>(alert, 1).append_value(a.level as u8);
            field::<UInt8Builder>(alert, 2).append_value(a.description as u8);
            field::<StringBuilder>(alert, 3).append_value(&a.name);
            alert.append(true);
        }
        builder.append(true);
    }
    Arc::new(builder.finish())
}

fn field<T: arrow_array::builder::ArrayBuilder>(builder: &mut StructBuilder, i: usize) -> &mut T {
    builder
        .field_builder::<T>(i)
        .expect("the alert struct's field types")
}

fn s(r: &NativeRow) -> &Summary {
    &r.tls.summary
}

#[allow(clippy::too_many_lines)] // one entry per column, in the table's order
fn tls_columns(rows: &[NativeRow]) -> Vec<Column> {
    let narrow8 = |v: u32| v as u8;
    let narrow16 = |v: u32| v as u16;
    let same = |v: u32| v;
    let ocsp: ArrayRef = Arc::new(
        rows.iter()
            .map(|r| s(r).ocsp_response.as_deref())
            .collect::<arrow_array::BinaryArray>(),
    );
    vec![
        ("version", strings(rows, |r| s(r).version.as_deref())),
        ("version_code", u16s(rows, |r| s(r).version_code)),
        ("cipher", strings(rows, |r| s(r).cipher.as_deref())),
        ("cipher_code", u32s(rows, |r| s(r).cipher_code)),
        ("curve", strings(rows, |r| s(r).curve.as_deref())),
        ("curve_code", u16s(rows, |r| s(r).curve_code)),
        (
            "server_name",
            strings(rows, |r| s(r).server_name.as_deref()),
        ),
        ("resumed", bools(rows, |r| Some(s(r).resumed))),
        ("established", bools(rows, |r| Some(s(r).established))),
        (
            "next_protocol",
            strings(rows, |r| s(r).next_protocol.as_deref()),
        ),
        ("last_alert", strings(rows, |r| s(r).last_alert.as_deref())),
        (
            "ssl_history",
            strings(rows, |r| Some(s(r).ssl_history.as_str())),
        ),
        (
            "client_version_code",
            u16s(rows, |r| s(r).client_version_code),
        ),
        (
            "client_ciphers",
            code_lists::<UInt32Type>(rows, |r| &s(r).client_ciphers, same),
        ),
        (
            "client_compression_methods",
            code_lists::<UInt8Type>(rows, |r| &s(r).client_compression_methods, narrow8),
        ),
        (
            "client_session_id_len",
            u16s(rows, |r| s(r).client_session_id_len),
        ),
        (
            "client_extensions",
            code_lists::<UInt16Type>(rows, |r| &s(r).client_extensions, narrow16),
        ),
        (
            "client_malformed_extensions",
            code_lists::<UInt16Type>(rows, |r| &s(r).client_malformed_extensions, narrow16),
        ),
        (
            "client_alpn",
            string_lists(rows, |r| s(r).client_alpn.iter().map(String::as_str)),
        ),
        (
            "client_supported_versions",
            code_lists::<UInt16Type>(rows, |r| &s(r).client_supported_versions, narrow16),
        ),
        (
            "client_supported_groups",
            code_lists::<UInt16Type>(rows, |r| &s(r).client_supported_groups, narrow16),
        ),
        (
            "client_key_share_groups",
            code_lists::<UInt16Type>(rows, |r| &s(r).client_key_share_groups, narrow16),
        ),
        (
            "client_signature_algorithms",
            code_lists::<UInt16Type>(rows, |r| &s(r).client_signature_algorithms, narrow16),
        ),
        (
            "client_ec_point_formats",
            code_lists::<UInt8Type>(rows, |r| &s(r).client_ec_point_formats, narrow8),
        ),
        (
            "client_psk_modes",
            code_lists::<UInt8Type>(rows, |r| &s(r).client_psk_modes, narrow8),
        ),
        (
            "client_status_request",
            u8s(rows, |r| s(r).client_status_request),
        ),
        (
            "client_session_ticket_len",
            u16s(rows, |r| s(r).client_session_ticket_len),
        ),
        ("client_heartbeat", u8s(rows, |r| s(r).client_heartbeat)),
        ("client_ems", bools(rows, |r| Some(s(r).client_ems))),
        (
            "client_reneg_info",
            bools(rows, |r| Some(s(r).client_reneg_info)),
        ),
        ("client_etm", bools(rows, |r| Some(s(r).client_etm))),
        (
            "client_padding_len",
            u16s(rows, |r| s(r).client_padding_len),
        ),
        (
            "client_record_size_limit",
            u16s(rows, |r| s(r).client_record_size_limit),
        ),
        ("client_ech", bools(rows, |r| Some(s(r).client_ech))),
        ("client_ech_kdf", u16s(rows, |r| s(r).client_ech_kdf)),
        ("client_ech_aead", u16s(rows, |r| s(r).client_ech_aead)),
        (
            "client_ech_config_id",
            u8s(rows, |r| s(r).client_ech_config_id),
        ),
        ("fallback_scsv", bools(rows, |r| Some(s(r).fallback_scsv))),
        ("reneg_scsv", bools(rows, |r| Some(s(r).reneg_scsv))),
        (
            "sslv2_client_hello",
            bools(rows, |r| Some(s(r).sslv2_client_hello)),
        ),
        (
            "server_version_code",
            u16s(rows, |r| s(r).server_version_code),
        ),
        (
            "server_extensions",
            code_lists::<UInt16Type>(rows, |r| &s(r).server_extensions, narrow16),
        ),
        (
            "server_malformed_extensions",
            code_lists::<UInt16Type>(rows, |r| &s(r).server_malformed_extensions, narrow16),
        ),
        ("server_compression", u8s(rows, |r| s(r).server_compression)),
        (
            "server_key_share_group",
            u16s(rows, |r| s(r).server_key_share_group),
        ),
        ("hrr", bools(rows, |r| Some(s(r).hrr))),
        ("hrr_group", u16s(rows, |r| s(r).hrr_group)),
        ("dh_prime_bits", u32s(rows, |r| s(r).dh_prime_bits)),
        ("ocsp_stapled", bools(rows, |r| Some(s(r).ocsp_stapled))),
        ("ocsp_response", ocsp),
        (
            "session_ticket_lifetime_hint",
            u32s(rows, |r| s(r).session_ticket_lifetime_hint),
        ),
        ("cert_request", bools(rows, |r| Some(s(r).cert_request))),
        ("alerts", alerts(rows)),
        ("ccs_orig", bools(rows, |r| Some(s(r).ccs_orig))),
        ("ccs_resp", bools(rows, |r| Some(s(r).ccs_resp))),
        (
            "cert_chain_fps",
            string_lists(rows, |r| s(r).cert_chain_fps.iter().map(String::as_str)),
        ),
        (
            "client_cert_chain_fps",
            string_lists(rows, |r| {
                s(r).client_cert_chain_fps.iter().map(String::as_str)
            }),
        ),
        ("forward_secrecy", bools(rows, |r| s(r).forward_secrecy)),
        ("rc4", bools(rows, |r| s(r).rc4)),
        ("ja3", strings(rows, |r| s(r).ja3.as_deref())),
        ("ja3s", strings(rows, |r| s(r).ja3s.as_deref())),
        ("ja4", strings(rows, |r| s(r).ja4.as_deref())),
        ("ja4_r", strings(rows, |r| s(r).ja4_r.as_deref())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Addr;
    use crate::tls::testdata::TLS13_BASIC;
    use crate::tls::{Limits, TlsAnalyzer};
    use arrow_array::ListArray;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn row(conn: u64) -> (ConnEnd, TlsRow) {
        let mut tls = TlsAnalyzer::new("t", Limits::default());
        for (is_orig, data) in TLS13_BASIC {
            tls.data(*is_orig, &hex(data));
        }
        let end = ConnEnd {
            conn,
            start_ts: 1_700_000_000_000_000_000,
            last_ts: 1_700_000_000_005_520_000,
            ip_version: 4,
            orig_h: Addr::V4(0x0a00_000a),
            orig_p: 52000,
            resp_h: Addr::V4(0x0a00_0001),
            resp_p: 443,
            vlan: None,
            orig_pkts: 8,
            resp_pkts: 7,
            orig_bytes: 700,
            resp_bytes: 2500,
            history: "ShADadFf".to_owned(),
            end_reason: "fin",
            seqs: crate::tcp::endpoint::Endpoints::default(),
            orig_seen: true,
            resp_seen: true,
            proto: 6,
            paths: 1,
            addresses_changed: false,
        };
        let row = TlsRow {
            summary: tls.summary.clone(),
            tls_anomalies: Vec::new(),
            transport_anomalies: vec!["tcp.overlap_mismatch"],
            missed: [0, 10],
        };
        (end, row)
    }

    #[test]
    fn a_batch_has_the_rows_in_order_and_counts_them() {
        let mut rows = NativeRows::default();
        for conn in 0..3 {
            let (end, tls) = row(conn);
            assert!(fits(&end, &tls.summary));
            rows.push(end, tls);
        }
        let extra = vec![(1, vec!["x509.certificate_unparseable".to_owned()])];
        let (array, counts) = rows.build(&[7, 8], &extra).unwrap();
        assert_eq!(rows.len(), 1, "the third row's marker has not been met yet");
        assert_eq!(array.len(), 2);
        let uids = array
            .column_by_name("uid")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(
            uids.value(0),
            uid(
                7,
                1_700_000_000_000_000_000,
                Addr::V4(0x0a00_000a),
                52000,
                Addr::V4(0x0a00_0001),
                443
            )
        );
        let history = array
            .column_by_name("history")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(history.value(0), "ShADadFfG", "the originator missed bytes");
        assert_eq!(counts.with_gaps, 2);
        assert_eq!(counts.missed_bytes, 20);
        assert_eq!(counts.anomalies["tcp.overlap_mismatch"], 2);
        assert_eq!(counts.anomalies["x509.certificate_unparseable"], 1);
        assert_eq!(counts.versions["TLSv13"], 2);
    }

    #[test]
    fn a_prepared_batch_takes_the_certificates_anomalies_into_anomalies_and_service() {
        let mut rows = NativeRows::default();
        for conn in 0..2 {
            let (end, tls) = row(conn);
            rows.push(end, tls);
        }
        let prepared = rows.prepare(&[1, 2]).unwrap();
        assert_eq!((prepared.len(), rows.len()), (2, 0));
        let extra = vec![(1, vec!["x509.certificate_unparseable".to_owned()])];
        let (array, counts) = prepared.finish(&extra).unwrap();
        let anomalies = array
            .column_by_name("anomalies")
            .unwrap()
            .as_any()
            .downcast_ref::<ListArray>()
            .unwrap();
        let names = |i: usize| -> Vec<String> {
            let list = anomalies.value(i);
            let list = list.as_any().downcast_ref::<StringArray>().unwrap();
            list.iter().map(|s| s.unwrap().to_owned()).collect()
        };
        assert_eq!(names(0), ["tcp.overlap_mismatch"]);
        assert_eq!(
            names(1),
            ["tcp.overlap_mismatch", "x509.certificate_unparseable"]
        );
        assert_eq!(counts.anomalies["x509.certificate_unparseable"], 1);
    }

    #[test]
    fn anomalies_beyond_the_prepared_rows_are_an_error() {
        let mut rows = NativeRows::default();
        let (end, tls) = row(0);
        rows.push(end, tls);
        let prepared = rows.prepare(&[1]).unwrap();
        assert!(prepared.finish(&[(1, vec![])]).is_err());
    }

    #[test]
    fn more_numbers_than_rows_is_an_error() {
        let mut rows = NativeRows::default();
        assert!(rows.build(&[1], &[]).is_err());
        assert!(rows.build(&[], &[(0, vec![])]).is_err());
    }

    #[test]
    #[ignore = "a measurement: cargo test --release -- --ignored --nocapture"]
    fn time_to_build_3000_rows() {
        let mut rows = NativeRows::default();
        for conn in 0..3000 {
            let (end, tls) = row(conn);
            rows.push(end, tls);
        }
        let sequences: Vec<u64> = (1..=3000).collect();
        let start = std::time::Instant::now();
        let (array, _) = rows.build(&sequences, &[]).unwrap();
        println!("3000 rows in {:?}", start.elapsed());
        assert_eq!(array.len(), 3000);
    }
}
