//! CSV exports: built batch by batch on the blocking pool and streamed as they go (no row
//! cap, bounded memory), with the export's audit row written when the last batch has gone.

use crate::db::{DbConnection, DbError};
use crate::domain::Actor;

/// A CSV writer whose output starts with the UTF-8 byte order mark. Excel reads a CSV
/// without one in the computer's legacy code page, which turns Dari and Pashto into
/// question marks and mojibake; with it, Excel (and every other reader) knows it is UTF-8.
pub fn csv_writer_with_bom() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec())
}

/// Prefixes cells a spreadsheet would run as a formula.
pub fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// One batch of a CSV export: its records, and whether more batches follow.
pub struct ExportBatch {
    pub records: Vec<Vec<String>>,
    pub more: bool,
}

/// What is exported, by whom, and how the audit trail names it.
pub struct Export {
    pub filename: &'static str,
    pub header: Vec<&'static str>,
    pub actor: Actor,
    pub action: &'static str,
}

/// Runs `next_batch` until it says there is no more, sending each batch's CSV as a chunk.
/// When the last batch has gone, the audit row is written with `detail(rows exported)`;
/// a receiver that goes away ends it early.
pub fn stream<F, D>(
    pool: crate::db::Pool,
    export: Export,
    detail: D,
    mut next_batch: F,
) -> tokio::sync::mpsc::Receiver<Vec<u8>>
where
    F: FnMut(&mut DbConnection) -> Result<ExportBatch, DbError> + Send + 'static,
    D: FnOnce(usize) -> String + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    actix_web::rt::task::spawn_blocking(move || {
        let result = (|| -> Result<(), DbError> {
            let mut conn = pool.get()?;
            let mut w = csv_writer_with_bom();
            let _ = w.write_record(&export.header);
            let mut exported = 0usize;
            loop {
                let batch = next_batch(&mut conn)?;
                for record in &batch.records {
                    let _ = w.write_record(record);
                }
                exported += batch.records.len();
                let chunk = std::mem::replace(&mut w, csv::Writer::from_writer(Vec::new()))
                    .into_inner()
                    .map_err(|e| DbError::Corrupt(format!("csv: {e}")))?;
                if tx.blocking_send(chunk).is_err() || !batch.more {
                    break; // done, or the client went away
                }
            }
            let now = chrono::Utc::now().naive_utc();
            let detail = detail(exported);
            crate::db::cases::audit(&mut conn, None, &export.actor, export.action, detail, now)
        })();
        if let Err(e) = result {
            tracing::error!(error = %e, export = export.filename, "CSV export failed");
        }
    });
    rx
}
